package io.reuseport.server;

import io.reuseport.config.ServerConfig;
import io.reuseport.service.Service;
import io.reuseport.service.ServiceContext;
import io.reuseport.service.Services;
import io.reuseport.stats.InstanceCounters;
import io.reuseport.stats.InstanceStatsEndpoint;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.datagram.DatagramPacket;
import io.vertx.core.datagram.DatagramSocket;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * One server instance in shared mode: what a Vert.x user gets today. TCP goes through Vert.x's {@code NetServer}
 * sharing (one kernel listener for the whole process, connections handed round robin to the instances). UDP uses
 * Vert.x's {@code DatagramSocket}: one per instance with {@code SO_REUSEPORT} on a native transport; on NIO, which
 * cannot share a port, only instance 0 binds one.
 */
final class SharedInstance extends VerticleBase implements ServerInstance {

  private static final Logger LOG = LoggerFactory.getLogger(SharedInstance.class);
  /** Vert.x sizes its datagram read buffer from this; 64 KiB reads the largest datagram whole. */
  private static final int DATAGRAM_BUFFER = 65_536;

  private final ServerConfig conf;
  private final int id;
  private InstanceCounters counters;
  private ConnectionAdmission admission;
  private InstanceStatsEndpoint stats;
  private NetServer server;
  private DatagramSocket udp;
  private volatile BoundInstance bound;

  SharedInstance(InstanceOptions options) {
    this.conf = options.config();
    this.id = options.id();
  }

  @Override
  public Future<?> start() {
    counters = new InstanceCounters(id, Thread.currentThread().getName());
    admission = new ConnectionAdmission(counters, conf.maxConnectionsPerInstance());
    Service service = Services.find(conf.service()).create(new ServiceContext(id, vertx));
    boolean reusePort = vertx.isNativeTransportEnabled();

    server = vertx.createNetServer(new NetServerOptions()
            .setHost(conf.host())
            // Vert.x shares one random port between servers listening on -1; on 0 each would bind its own
            .setPort(conf.port() == 0 ? -1 : conf.port())
            .setAcceptBacklog(conf.acceptBacklog())
            .setReusePort(reusePort)
            .setTcpNoDelay(true)
            .setIdleTimeout(conf.idleTimeoutSeconds())
            .setIdleTimeoutUnit(TimeUnit.SECONDS))
        .connectHandler(socket -> connected(socket, service));
    return service.ready()
        .compose(ready -> server.listen()
            .recover(err -> Future.failedFuture(BindFailure.of("TCP", conf, err))))
        .compose(s -> {
          if (!reusePort && id > 0) {
            return Future.succeededFuture();
          }
          udp = vertx.createDatagramSocket(new DatagramSocketOptions()
              .setReusePort(reusePort)
              .setReceiveBufferSize(DATAGRAM_BUFFER));
          udp.handler(packet -> received(packet, service));
          return udp.listen(s.actualPort(), conf.host())
              .recover(err -> Future.failedFuture(BindFailure.of("UDP", conf.withPort(s.actualPort()), err)));
        })
        .compose(v -> {
          stats = new InstanceStatsEndpoint(vertx, counters);
          return stats.start(conf.statsIntervalMs());
        })
        .onSuccess(v -> {
          bound = new BoundInstance(id, counters.eventLoop, server.actualPort(), null);
          LOG.info("instance {} on {}: TCP {}:{} (shared listener) UDP {}", id, counters.eventLoop, conf.host(),
              server.actualPort(), udp == null ? "none (nio cannot share the port)" : udp.localAddress());
        })
        .onFailure(err -> {
          server.close();
          if (udp != null) {
            udp.close();
          }
        });
  }

  @Override
  public Future<?> stop() {
    if (stats != null) {
      stats.draining();
    }
    Future<Void> udpClosed = udp == null ? Future.succeededFuture() : udp.close();
    return Future.join(udpClosed, server.shutdown(conf.drainTimeoutSeconds(), TimeUnit.SECONDS))
        .transform(v -> stats == null ? Future.succeededFuture() : stats.stop());
  }

  @Override
  public BoundInstance bound() {
    return bound;
  }

  private void connected(NetSocket socket, Service service) {
    if (!admission.admit()) {
      socket.close();
      return;
    }
    Session session = new Session(socket);
    // before the service sees the connection: a failure in onConnect closes it, and that close counts too
    socket.closeHandler(session);
    socket.exceptionHandler(session::socketFailed);
    Service.TcpHandler handler;
    try {
      handler = service.onConnect(session);
    } catch (Throwable t) {
      // an Error too: Vert.x would only log it, and the connection would stay open and counted active
      session.serviceFailed(t);
      return;
    }
    socket.handler(data -> {
      counters.tcpBytesIn += data.length();
      try {
        handler.onData(data);
      } catch (Throwable t) {
        session.serviceFailed(t);
      }
    });
    socket.endHandler(v -> {
      try {
        handler.onEnd(session);
      } catch (Throwable t) {
        session.serviceFailed(t);
      }
    });
  }

  private void received(DatagramPacket packet, Service service) {
    counters.udpDatagramsIn++;
    counters.udpBytesIn += packet.data().length();
    try {
      service.onDatagram(packet.data(), reply -> {
        counters.udpDatagramsOut++;
        counters.udpBytesOut += reply.length();
        udp.send(reply, packet.sender().port(), packet.sender().host())
            .onFailure(err -> counters.udpErrors++);
      });
    } catch (Exception e) {
      counters.udpErrors++;
    }
  }

  /**
   * One admitted connection: the service's view of it, and how it ends. A failed write, a socket error, the peer's
   * reset or a service error closes it; {@link ConnectionAdmission} counts it when it closes, as the reuseport handler does.
   */
  private final class Session implements Service.TcpSession, Handler<Void> {
    private final NetSocket socket;
    /** What ended this connection first, counted when it closes. */
    private ConnectionAdmission.Ending ending = ConnectionAdmission.Ending.CLEAN;
    /** Takes the outcome of every write: one object per connection, nothing allocated per write. */
    private final Handler<AsyncResult<Void>> written = result -> {
      if (result.failed()) {
        socketFailed(result.cause());
      }
    };

    Session(NetSocket socket) {
      this.socket = socket;
    }

    @Override
    public void write(Buffer data) {
      counters.tcpBytesOut += data.length();
      socket.write(data).onComplete(written);
      if (socket.writeQueueFull()) {
        socket.pause();
        socket.drainHandler(v -> socket.resume());
      }
    }

    @Override
    public void close() {
      socket.end();
    }

    @Override
    public int instanceId() {
      return id;
    }

    /** The connection closed (the close handler). */
    @Override
    public void handle(Void closed) {
      admission.closed(ending);
    }

    /** A reset, a failed read or write: a peer's doing, so logged at debug only. */
    void socketFailed(Throwable cause) {
      ending = ending.then(ConnectionAdmission.Ending.of(cause));
      LOG.debug("connection {} failed: {}", socket.remoteAddress(), cause.toString());
      socket.close();
    }

    /** The service threw (an Error too, handled as the reuseport handler does): closed, one error. */
    void serviceFailed(Throwable cause) {
      ending = ending.then(ConnectionAdmission.Ending.FAILED);
      LOG.warn("service error on connection {}, closing it: {}", socket.remoteAddress(), cause.toString());
      socket.close();
    }
  }
}
