package io.reuseport.server;

import io.netty.channel.Channel;
import io.netty.channel.unix.UnixChannel;
import io.reuseport.config.ServerConfig;
import io.reuseport.service.Service;
import io.reuseport.service.ServiceContext;
import io.reuseport.service.Services;
import io.reuseport.stats.InstanceCounters;
import io.reuseport.stats.InstanceStatsEndpoint;
import io.reuseport.steer.Heartbeats;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * One server instance in reuseport mode: its own TCP listener and UDP socket, both with {@code SO_REUSEPORT}, bound
 * and served on this verticle's event loop. The kernel's 4-tuple hash decides which instance gets a connection or a
 * datagram.
 */
final class ReusePortInstance extends VerticleBase implements ServerInstance {

  private static final Logger LOG = LoggerFactory.getLogger(ReusePortInstance.class);

  private final InheritedSockets inherited;
  /** Stamped from this loop for the steering watchdog; null when nothing steers. */
  private final Heartbeats heartbeats;
  private final long stampPeriodMs;
  private final ServerConfig conf;
  private final int id;
  private InstanceCounters counters;
  private ConnectionAdmission admission;
  private InstanceStatsEndpoint stats;
  private ReusePortBinder binder;
  private Service service;
  /** Listeners and UDP sockets served by this instance: one of each, or those received on a takeover. */
  private final List<Channel> tcpListeners = new CopyOnWriteArrayList<>();
  private final List<Channel> udpSockets = new CopyOnWriteArrayList<>();
  /** Open connections; only touched on this instance's loop. */
  private final Set<Channel> open = new HashSet<>();
  private final IdleSweeper idleSweeper = new IdleSweeper(open);
  private volatile BoundInstance bound;
  /** Set once the sockets were released to another process: this instance no longer touches them. */
  private volatile boolean released;

  /**
   * @param inherited this instance's share of the sockets received from a process taken over; when empty, it binds
   *     its own
   */
  ReusePortInstance(InstanceOptions options, InheritedSockets inherited, Heartbeats heartbeats, long stampPeriodMs) {
    this.conf = options.config();
    this.id = options.id();
    this.inherited = inherited;
    this.heartbeats = heartbeats;
    this.stampPeriodMs = stampPeriodMs;
  }

  @Override
  public Future<?> start() {
    counters = new InstanceCounters(id, Thread.currentThread().getName());
    admission = new ConnectionAdmission(counters, conf.maxConnectionsPerInstance());
    service = Services.find(conf.service()).create(new ServiceContext(id, vertx));
    binder = new ReusePortBinder(vertx, context, conf.transport().resolved(), conf.tcpHalfClose());

    return service.ready()
        .compose(ready -> inherited.isEmpty() ? bindOwn() : adoptInherited())
        .compose(v -> {
          Channel udp = udpSockets.isEmpty() ? null : udpSockets.get(0);
          if (udp instanceof UnixChannel) {
            counters.udpFd = ((UnixChannel) udp).fd().intValue();
          }
          idleSweeper.start(vertx, conf.idleTimeoutSeconds());
          stats = new InstanceStatsEndpoint(vertx, counters);
          return stats.start(conf.statsIntervalMs());
        })
        .onSuccess(v -> {
          if (heartbeats != null) {
            // a blocked loop stops stamping: that is what the watchdog looks for; the first stamp, now, tells it
            // which thread this loop is before its first check, not one period after it (a loop slow to start on
            // a busy machine was judged without the scheduler's view and steered around)
            heartbeats.stamp(id);
            vertx.setPeriodic(stampPeriodMs, timer -> heartbeats.stamp(id));
            // requests migrated here from a closed listener may not have woken this loop (AcceptPass)
            vertx.setPeriodic(AcceptPass.PERIOD_MS, timer -> acceptPass());
          }
          bound = new BoundInstance(id, counters.eventLoop, localPort(tcpListeners.get(0)), null);
          LOG.info("instance {} on {}: TCP {} UDP {}{}", id, counters.eventLoop, addresses(tcpListeners),
              addresses(udpSockets), inherited.isEmpty() ? "" : " (taken over)");
        })
        .onFailure(err -> {
          // nothing half-starts: a failed instance leaves no socket of its own behind (inherited ones stay open)
          if (inherited.isEmpty()) {
            tcpListeners.forEach(Drain::close);
            udpSockets.forEach(Drain::close);
          }
        });
  }

  private Future<Void> bindOwn() {
    InetSocketAddress address = new InetSocketAddress(conf.host(), conf.port());
    Initializer initializer = new Initializer(service);
    return binder.bindTcp(address, conf.acceptBacklog(), initializer.failures, initializer)
        .recover(err -> Future.failedFuture(BindFailure.of("TCP", conf, err)))
        .compose(tcp -> {
          tcpListeners.add(tcp);
          InetSocketAddress udpAddress = new InetSocketAddress(address.getAddress(), localPort(tcp));
          return binder.bindUdp(udpAddress, conf.udpReceiveBufferBytes(), new DatagramHandler(service, counters))
              .recover(err -> Future.failedFuture(BindFailure.of("UDP", conf.withPort(localPort(tcp)), err)));
        })
        .map(udp -> {
          udpSockets.add(udp);
          return null;
        });
  }

  private Future<Void> adoptInherited() {
    List<Future<?>> adopted = new ArrayList<>();
    for (int fd : inherited.tcpFds()) {
      Initializer initializer = new Initializer(service);
      adopted.add(binder.adoptTcp(fd, initializer.failures, initializer).onSuccess(tcpListeners::add));
    }
    for (int fd : inherited.udpFds()) {
      // one handler per socket: it holds that socket's raw descriptor
      adopted.add(binder.adoptUdp(fd, conf.udpReceiveBufferBytes(), new DatagramHandler(service, counters))
          .onSuccess(udpSockets::add));
    }
    return Future.all(adopted).mapEmpty();
  }

  /**
   * Drains: stops accepting and receiving (unless the sockets were handed over), lets open connections finish up
   * to {@code drainTimeoutSeconds}, then closes what is left.
   */
  @Override
  public Future<?> stop() {
    if (stats != null) {
      stats.draining();
    }
    return closeListeners()
        .transform(closed -> Drain.until(vertx, open::isEmpty,
            TimeUnit.SECONDS.toMillis(conf.drainTimeoutSeconds())))
        .transform(drained -> {
          if (!open.isEmpty()) {
            LOG.warn("instance {}: closing {} connection{} still open after the drain timeout", id, open.size(),
                open.size() == 1 ? "" : "s");
            new ArrayList<>(open).forEach(Channel::close);
          }
          idleSweeper.stop(vertx);
          return stats == null ? Future.succeededFuture() : stats.stop();
        });
  }

  /**
   * Closes this instance's TCP listeners one after the other, then retires and closes its UDP sockets
   * ({@link UdpRetirement}). One at a time, so that with {@code net.ipv4.tcp_migrate_req=1} a closing listener's
   * queue migrates to a listener that stays open. Does nothing once the sockets were released.
   */
  @Override
  public Future<Void> closeListeners() {
    if (released) {
      return Future.succeededFuture();
    }
    Future<Void> chain = Future.succeededFuture();
    for (Channel c : tcpListeners) {
      chain = chain.transform(v -> Drain.close(c));
    }
    for (Channel c : udpSockets) {
      chain = chain.transform(v -> UdpRetirement.retire(c, () -> counters.udpDatagramsIn));
    }
    return chain;
  }

  /**
   * Releases the sockets: takes them off this loop (no more accepts or reads here) and closes this process's
   * descriptors only. A socket lives as long as any process holds a descriptor of it, so the process that received
   * them keeps serving them, with the connections queued on them; nothing here (no shutdown, no connect) changes
   * the sockets themselves.
   */
  @Override
  public Future<Void> release() {
    released = true;
    // called from the control socket's thread: the counters live on this instance's loop
    context.runOnContext(v -> {
      if (stats != null) {
        stats.draining();
      }
    });
    List<Future<Void>> closed = new ArrayList<>();
    for (Channel c : tcpListeners) {
      closed.add(Drain.close(c));
    }
    for (Channel c : udpSockets) {
      closed.add(Drain.close(c));
    }
    return Future.join(closed).mapEmpty();
  }

  @Override
  public void acceptPass() {
    if (!released) {
      tcpListeners.forEach(AcceptPass::run);
    }
  }

  @Override
  public void closeConnections() {
    context.runOnContext(v -> {
      if (!open.isEmpty()) {
        LOG.info("instance {}: closing {} open connection(s) now", id, open.size());
        new ArrayList<>(open).forEach(Channel::close);
      }
    });
  }

  /**
   * A UDP socket that was closed, or connected to one peer (the kernel then gives it only that peer's datagrams),
   * no longer serves this instance's share of the port.
   */
  @Override
  public Future<String> socketProblem() {
    Promise<String> problem = Promise.promise();
    context.runOnContext(v -> problem.complete(released ? null : udpProblem()));
    return problem.future();
  }

  private String udpProblem() {
    for (Channel udp : udpSockets) {
      if (!udp.isOpen()) {
        return "UDP socket " + udp.localAddress() + " is closed";
      }
      InetSocketAddress peer = UdpRetirement.connectedPeer(udp);
      if (peer != null) {
        return "UDP socket " + udp.localAddress() + " is connected to " + peer + " and receives only its datagrams";
      }
    }
    return null;
  }

  /** File descriptors of the TCP listeners this instance serves. */
  @Override
  public List<Integer> tcpFds() {
    return fds(tcpListeners);
  }

  /** File descriptors of the UDP sockets this instance serves. */
  @Override
  public List<Integer> udpFds() {
    return fds(udpSockets);
  }

  private static List<Integer> fds(List<Channel> channels) {
    List<Integer> fds = new ArrayList<>();
    for (Channel c : channels) {
      if (c instanceof UnixChannel) {
        fds.add(((UnixChannel) c).fd().intValue());
      }
    }
    return fds;
  }

  private static String addresses(List<Channel> channels) {
    return channels.size() == 1 ? String.valueOf(channels.get(0).localAddress())
        : channels.stream().map(c -> String.valueOf(c.localAddress())).collect(Collectors.joining(", ", "[", "]"));
  }

  @Override
  public BoundInstance bound() {
    return bound;
  }

  private static int localPort(Channel channel) {
    return ((InetSocketAddress) channel.localAddress()).getPort();
  }

  /** Admits or rejects each accepted connection of one listener, then sets up its pipeline. */
  private final class Initializer implements ConnectionAcceptor.Setup {
    private final Service service;
    /** The same listener's accept errors. */
    private final AcceptFailures failures;

    Initializer(Service service) {
      this.service = service;
      this.failures = new AcceptFailures(counters);
    }

    @Override
    public void setUp(Channel ch) {
      failures.accepted();
      if (!admission.admit()) {
        ch.close();
        return;
      }
      try {
        ch.pipeline().addLast(TcpConnectionHandler.NAME,
            new TcpConnectionHandler(service, admission, open, idleSweeper));
      } catch (Throwable t) {
        // no handler to count its close (e.g. its class failed to load): undo the admission; the acceptor closes it
        admission.closed(true);
        throw t;
      }
    }
  }
}
