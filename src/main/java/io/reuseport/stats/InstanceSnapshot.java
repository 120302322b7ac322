package io.reuseport.stats;

/**
 * One instance's counters at one moment: copied on the instance's event loop ({@link InstanceCounters#snapshot}),
 * sent over the local event bus as it is ({@link InstanceSnapshotCodec}), kept by the collector and read by the
 * meters. Immutable, so any thread may read it. {@link SnapshotJson} is the one place that names its fields in JSON.
 *
 * @param id the instance's id, 0..N-1
 * @param eventLoop the name of the instance's event loop thread; null in an {@link #empty} snapshot
 * @param udpFd the UDP socket's file descriptor, to find its kernel drop count; -1 when unknown
 * @param draining whether the instance started its drain: from then on its reports stop by design, not by a stall
 */
public record InstanceSnapshot(int id, String eventLoop, int udpFd, boolean draining, TcpCounts tcp,
                               UdpCounts udp, HttpCounts http) {

  /** What an instance that has not reported yet counts: nothing. */
  public static InstanceSnapshot empty(int id) {
    return new InstanceSnapshot(id, null, -1, false, TcpCounts.ZERO, UdpCounts.ZERO, HttpCounts.ZERO);
  }

  /**
   * The TCP counters.
   *
   * @param acceptFailures {@code accept()} calls that failed (EMFILE at the descriptor limit, ...); the connection
   *     stays queued
   * @param resets connections the peer closed with a reset: counted in {@code closed}, not in {@code errors}
   */
  public record TcpCounts(long accepted, long active, long closed, long rejected, long bytesIn, long bytesOut,
                          long errors, long acceptFailures, long resets) {

    public static final TcpCounts ZERO = new TcpCounts(0, 0, 0, 0, 0, 0, 0, 0, 0);

    /** The sum of both, counter by counter (for totals over the instances). */
    public TcpCounts plus(TcpCounts o) {
      return new TcpCounts(accepted + o.accepted, active + o.active, closed + o.closed, rejected + o.rejected,
          bytesIn + o.bytesIn, bytesOut + o.bytesOut, errors + o.errors, acceptFailures + o.acceptFailures,
          resets + o.resets);
    }
  }

  /**
   * The UDP counters.
   *
   * @param replyDrops replies not sent because the socket's send queue was full
   */
  public record UdpCounts(long datagramsIn, long datagramsOut, long bytesIn, long bytesOut, long errors,
                          long replyDrops) {

    public static final UdpCounts ZERO = new UdpCounts(0, 0, 0, 0, 0, 0);

    /** The sum of both, counter by counter (for totals over the instances). */
    public UdpCounts plus(UdpCounts o) {
      return new UdpCounts(datagramsIn + o.datagramsIn, datagramsOut + o.datagramsOut, bytesIn + o.bytesIn,
          bytesOut + o.bytesOut, errors + o.errors, replyDrops + o.replyDrops);
    }
  }

  /**
   * The HTTP request counters (all zero for a byte service).
   *
   * @param requests requests whose head arrived
   * @param active requests not answered yet
   * @param resets requests that ended without a whole response
   * @param byStatusClass responses by status class, 1xx at index 0 .. 5xx at index 4
   * @param p50Ms median latency over the last stats interval (0 without requests); in totals, the worst instance's
   * @param p99Ms 99th percentile over the last stats interval; in totals, the worst instance's
   * @param durationBuckets cumulative since start, responses per bucket of {@link HttpRequestStats#BUCKETS_SECONDS}
   *     (not cumulative over buckets; the last counts those beyond every bound)
   * @param durationSumSeconds the sum of all response durations since start
   * @param tlsHandshakeFailures connections whose TLS handshake failed (not TLS, no common protocol or cipher, an
   *     alert from the client); a client's fault, not counted in the TCP {@code errors}
   */
  public record HttpCounts(long requests, long active, long resets, long[] byStatusClass, double p50Ms,
                           double p99Ms, long[] durationBuckets, double durationSumSeconds,
                           long tlsHandshakeFailures) {

    public static final HttpCounts ZERO = new HttpCounts(0, 0, 0, new long[5], 0, 0,
        new long[HttpRequestStats.BUCKETS_SECONDS.length + 1], 0, 0);

    /** Responses with a status of {@code statusClass}xx (1..5). */
    public long statusClass(int statusClass) {
      return byStatusClass[statusClass - 1];
    }

    /** The sum of both, counter by counter; percentiles: the larger (for totals over the instances). */
    public HttpCounts plus(HttpCounts o) {
      return new HttpCounts(requests + o.requests, active + o.active, resets + o.resets,
          sum(byStatusClass, o.byStatusClass), Math.max(p50Ms, o.p50Ms), Math.max(p99Ms, o.p99Ms),
          sum(durationBuckets, o.durationBuckets), durationSumSeconds + o.durationSumSeconds,
          tlsHandshakeFailures + o.tlsHandshakeFailures);
    }

    private static long[] sum(long[] a, long[] b) {
      long[] s = new long[a.length];
      for (int i = 0; i < a.length; i++) {
        s[i] = a[i] + b[i];
      }
      return s;
    }
  }
}
