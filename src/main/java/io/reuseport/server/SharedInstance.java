package io.reuseport.server;

import io.reuseport.config.ServerConfig;
import io.reuseport.service.Service;
import io.reuseport.service.ServiceContext;
import io.reuseport.service.Services;
import io.reuseport.stats.InstanceCounters;
import io.reuseport.stats.InstanceStatsEndpoint;
import io.vertx.core.Future;
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
    if (counters.tcpActive >= conf.maxConnectionsPerInstance()) {
      counters.tcpRejected++;
      socket.close();
      return;
    }
    counters.tcpAccepted++;
    counters.tcpActive++;
    Session session = new Session(socket);
    Service.TcpHandler handler;
    try {
      handler = service.onConnect(session);
    } catch (RuntimeException e) {
      session.fail(e);
      return;
    }
    socket.handler(data -> {
      counters.tcpBytesIn += data.length();
      try {
        handler.onData(data);
      } catch (Exception e) {
        session.fail(e);
      }
    });
    socket.endHandler(v -> handler.onEnd());
    socket.exceptionHandler(err -> counters.tcpErrors++);
    socket.closeHandler(v -> {
      counters.tcpActive--;
      counters.tcpClosed++;
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

  private final class Session implements Service.TcpSession {
    private final NetSocket socket;

    Session(NetSocket socket) {
      this.socket = socket;
    }

    @Override
    public void write(Buffer data) {
      counters.tcpBytesOut += data.length();
      socket.write(data);
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

    void fail(Exception e) {
      counters.tcpErrors++;
      LOG.warn("service error on connection {}, closing it: {}", socket.remoteAddress(), e.toString());
      socket.close();
    }
  }
}
