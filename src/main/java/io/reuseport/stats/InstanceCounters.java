package io.reuseport.stats;

/**
 * The counters of one server instance. Plain fields: they are only touched on that instance's event loop, and only
 * leave it as a {@link #snapshot} copied there.
 */
public final class InstanceCounters {

  public final int instanceId;
  public final String eventLoop;

  public long tcpAccepted;
  public long tcpActive;
  public long tcpClosed;
  public long tcpRejected;
  public long tcpBytesIn;
  public long tcpBytesOut;
  public long tcpErrors;
  /** Connections the peer closed with a reset ({@code SO_LINGER} 0): its way of closing, not an error here. */
  public long tcpResets;
  /** accept() calls that failed (EMFILE at the file descriptor limit, ENOBUFS, ...): the connection stays queued. */
  public long tcpAcceptFailures;

  public long udpDatagramsIn;
  public long udpDatagramsOut;
  public long udpBytesIn;
  public long udpBytesOut;
  public long udpErrors;
  /** Replies not sent because the socket's send queue was full. */
  public long udpReplyDrops;

  /** HTTP requests, for instances of an HTTP service. */
  public final HttpRequestStats http = new HttpRequestStats();

  /** Set when the instance starts its drain: from then on it is draining, not stale, when its reports stop. */
  public boolean draining;

  /** The UDP socket's file descriptor, to find its kernel drop count; -1 when unknown. */
  public int udpFd = -1;

  public InstanceCounters(int instanceId, String eventLoop) {
    this.instanceId = instanceId;
    this.eventLoop = eventLoop;
  }

  /** A copy of the counters; call it on the instance's event loop. */
  public InstanceSnapshot snapshot() {
    return new InstanceSnapshot(instanceId, eventLoop, udpFd, draining,
        new InstanceSnapshot.TcpCounts(tcpAccepted, tcpActive, tcpClosed, tcpRejected, tcpBytesIn, tcpBytesOut,
            tcpErrors, tcpAcceptFailures, tcpResets),
        new InstanceSnapshot.UdpCounts(udpDatagramsIn, udpDatagramsOut, udpBytesIn, udpBytesOut, udpErrors,
            udpReplyDrops),
        http.snapshot());
  }
}
