package io.reuseport.server;

import io.netty.channel.Channel;
import io.netty.channel.unix.UnixChannel;
import io.netty.handler.ssl.SslContext;
import io.reuseport.config.ServerConfig;
import io.reuseport.http.ChannelHttpServer;
import io.reuseport.service.HttpServiceProvider;
import io.reuseport.service.ServiceContext;
import io.reuseport.stats.InstanceCounters;
import io.reuseport.stats.InstanceStatsEndpoint;
import io.reuseport.steer.Heartbeats;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServerOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * One server instance of an HTTP service, the sibling of {@link ReusePortInstance}: its own TCP listener with
 * {@code SO_REUSEPORT} (bound by the same {@link ReusePortBinder}, so that steering, the selector's socket map and a
 * takeover treat it as any other), accepted on this verticle's event loop, admitted and counted as byte-service
 * connections are, and served by stock Vert.x HTTP ({@link ChannelHttpServer}) with the service's request handler.
 * Each connection counts how it ended as byte connections do ({@link HttpConnectionEnding}; a service that throws:
 * {@link HttpServiceFailures}). No UDP socket. Requests are counted on this loop ({@link HttpRequestCounter}).
 */
final class HttpInstance extends VerticleBase implements ServerInstance {

  private static final Logger LOG = LoggerFactory.getLogger(HttpInstance.class);

  private final ServerConfig conf;
  private final int id;
  private final HttpServiceProvider provider;
  private final SslContext tls;
  private final InheritedSockets inherited;
  private final Heartbeats heartbeats;
  private final long stampPeriodMs;
  private InstanceCounters counters;
  private ConnectionAdmission admission;
  private InstanceStatsEndpoint stats;
  private ReusePortBinder binder;
  private ChannelHttpServer http;
  private final List<Channel> tcpListeners = new CopyOnWriteArrayList<>();
  /** Open connections; only touched on this instance's loop. */
  private final Set<Channel> open = new HashSet<>();
  /** The idle timeout, in place of Vert.x's per-connection one (see {@link HttpConnectionEnding}). */
  private final IdleSweeper idleSweeper = new IdleSweeper(open);
  private volatile BoundInstance bound;
  private volatile boolean released;

  /**
   * @param tls the listeners' TLS context, or null for cleartext
   * @param inherited this instance's share of the listeners received from a process taken over; when empty, it
   *     binds its own
   */
  HttpInstance(InstanceOptions options, HttpServiceProvider provider, SslContext tls, InheritedSockets inherited,
               Heartbeats heartbeats, long stampPeriodMs) {
    this.conf = options.config();
    this.id = options.id();
    this.provider = provider;
    this.tls = tls;
    this.inherited = inherited;
    this.heartbeats = heartbeats;
    this.stampPeriodMs = stampPeriodMs;
  }

  @Override
  public Future<?> start() {
    counters = new InstanceCounters(id, Thread.currentThread().getName());
    admission = new ConnectionAdmission(counters, conf.maxConnectionsPerInstance());
    binder = new ReusePortBinder(vertx, context, conf.transport().resolved(), false);
    context.exceptionHandler(HttpServiceFailures.later(counters));
    HttpServerOptions options = new HttpServerOptions()
        .setHost(conf.host())
        .setMaxInitialLineLength(conf.http().maxRequestLineBytes())
        .setMaxHeaderSize(conf.http().maxHeaderBytes());

    return provider.create(new ServiceContext(id, vertx))
        .compose(handler -> ChannelHttpServer.start(vertx, options, conf.port(), tls,
            new HttpRequestCounter(counters), HttpServiceFailures.guard(handler)))
        .compose(server -> {
          http = server.headerTimeout(TimeUnit.SECONDS.toMillis(conf.http().headerTimeoutSeconds()))
              .onTlsHandshakeFailure(counters.http::tlsHandshakeFailed);
          idleSweeper.start(vertx, conf.idleTimeoutSeconds());
          return inherited.isEmpty() ? bindOwn() : adoptInherited();
        })
        .compose(v -> {
          stats = new InstanceStatsEndpoint(vertx, counters);
          return stats.start(conf.statsIntervalMs());
        })
        .onSuccess(v -> {
          if (heartbeats != null) {
            heartbeats.stamp(id);
            vertx.setPeriodic(stampPeriodMs, timer -> heartbeats.stamp(id));
            vertx.setPeriodic(AcceptPass.PERIOD_MS, timer -> acceptPass());
          }
          bound = new BoundInstance(id, counters.eventLoop, localPort(tcpListeners.get(0)), null);
          LOG.info("instance {} on {}: HTTP{} {}{}", id, counters.eventLoop, tls == null ? "" : "S",
              tcpListeners.size() == 1 ? tcpListeners.get(0).localAddress() : tcpListeners,
              inherited.isEmpty() ? "" : " (taken over)");
        })
        .onFailure(err -> {
          if (inherited.isEmpty()) {
            tcpListeners.forEach(Drain::close);
          }
        });
  }

  private Future<Void> bindOwn() {
    InetSocketAddress address = new InetSocketAddress(conf.host(), conf.port());
    Setup setup = new Setup();
    return binder.bindTcp(address, conf.acceptBacklog(), setup.failures, setup)
        .recover(err -> Future.failedFuture(BindFailure.of("TCP", conf, err)))
        .map(tcp -> {
          tcpListeners.add(tcp);
          return null;
        });
  }

  private Future<Void> adoptInherited() {
    List<Future<?>> adopted = new ArrayList<>();
    for (int fd : inherited.tcpFds()) {
      Setup setup = new Setup();
      adopted.add(binder.adoptTcp(fd, setup.failures, setup).onSuccess(tcpListeners::add));
    }
    return Future.all(adopted).mapEmpty();
  }

  /**
   * Drains: stops accepting (unless the listeners were handed over), lets Vert.x shut each connection down (HTTP/1.1
   * finishes what is in flight and closes, HTTP/2 sends {@code GOAWAY}) for up to {@code drainTimeoutSeconds}, then
   * closes what is left.
   */
  @Override
  public Future<?> stop() {
    if (stats != null) {
      stats.draining();
    }
    long drainMs = TimeUnit.SECONDS.toMillis(conf.drainTimeoutSeconds());
    return closeListeners()
        .transform(closed -> http == null ? Future.succeededFuture() : http.shutdown(drainMs))
        .transform(drained -> {
          idleSweeper.stop(vertx);
          if (!open.isEmpty()) {
            LOG.warn("instance {}: closing {} HTTP connection(s) still open after the drain", id, open.size());
            new ArrayList<>(open).forEach(Channel::close);
          }
          return stats == null ? Future.succeededFuture() : stats.stop();
        });
  }

  /** Closes the listeners one after the other (see {@link ReusePortInstance#closeListeners}). */
  @Override
  public Future<Void> closeListeners() {
    if (released) {
      return Future.succeededFuture();
    }
    Future<Void> chain = Future.succeededFuture();
    for (Channel c : tcpListeners) {
      chain = chain.transform(v -> Drain.close(c));
    }
    return chain;
  }

  @Override
  public Future<Void> release() {
    released = true;
    context.runOnContext(v -> {
      if (stats != null) {
        stats.draining();
      }
    });
    List<Future<Void>> closed = new ArrayList<>();
    for (Channel c : tcpListeners) {
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
        LOG.info("instance {}: closing {} open HTTP connection(s) now", id, open.size());
        new ArrayList<>(open).forEach(Channel::close);
      }
    });
  }

  @Override
  public List<Integer> tcpFds() {
    List<Integer> fds = new ArrayList<>();
    for (Channel c : tcpListeners) {
      if (c instanceof UnixChannel) {
        fds.add(((UnixChannel) c).fd().intValue());
      }
    }
    return fds;
  }

  @Override
  public BoundInstance bound() {
    return bound;
  }

  private static int localPort(Channel channel) {
    return ((InetSocketAddress) channel.localAddress()).getPort();
  }

  /**
   * Admits each accepted connection as byte services do ({@link ConnectionAdmission}: the cap, the counts), then
   * hands it to Vert.x HTTP. One per listener (it ends that listener's run of accept failures).
   */
  private final class Setup implements ConnectionAcceptor.Setup {

    private final AcceptFailures failures = new AcceptFailures(counters);

    @Override
    public void setUp(Channel connection) {
      failures.accepted();
      if (!admission.admit()) {
        connection.close();
        return;
      }
      open.add(connection);
      HttpConnectionEnding ending = new HttpConnectionEnding(idleSweeper);
      connection.pipeline().addFirst(HttpConnectionEnding.NAME, ending);
      connection.closeFuture().addListener(closed -> {
        open.remove(connection);
        admission.closed(ending.ending());
      });
      http.serve(connection);
    }
  }
}
