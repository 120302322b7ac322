package io.reuseport.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.unix.UnixChannel;
import io.netty.handler.timeout.IdleStateHandler;
import io.reuseport.config.ServerConfig;
import io.reuseport.service.Service;
import io.reuseport.service.ServiceContext;
import io.reuseport.service.Services;
import io.reuseport.stats.InstanceCounters;
import io.reuseport.stats.InstanceStatsEndpoint;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One server instance in reuseport mode: its own TCP listener and UDP socket, both with {@code SO_REUSEPORT}, bound
 * and served on this verticle's event loop. The kernel's 4-tuple hash decides which instance gets a connection or a
 * datagram.
 */
final class ReusePortInstance extends VerticleBase implements ServerInstance {

  private static final Logger LOG = LoggerFactory.getLogger(ReusePortInstance.class);

  private ServerConfig conf;
  private int id;
  private InstanceCounters counters;
  private InstanceStatsEndpoint stats;
  private Channel tcpListener;
  private Channel udpSocket;
  /** Open connections; only touched on this instance's loop. */
  private final Set<Channel> open = new HashSet<>();
  private volatile BoundInstance bound;

  @Override
  public Future<?> start() {
    InstanceSettings settings = InstanceSettings.fromJson(config());
    conf = settings.config();
    id = settings.id();
    counters = new InstanceCounters(id, Thread.currentThread().getName());
    Service service = Services.find(conf.service()).create(new ServiceContext(id, vertx));
    ReusePortBinder binder = new ReusePortBinder(vertx, context, conf.transport().resolved());
    InetSocketAddress address = new InetSocketAddress(conf.host(), conf.port());

    return service.ready()
        .compose(ready -> binder.bindTcp(address, conf.acceptBacklog(), new Initializer(service)))
        .compose(tcp -> {
          tcpListener = tcp;
          InetSocketAddress udpAddress = new InetSocketAddress(address.getAddress(), localPort(tcp));
          return binder.bindUdp(udpAddress, conf.udpReceiveBufferBytes(), new DatagramHandler(service, counters));
        })
        .compose(udp -> {
          udpSocket = udp;
          if (udp instanceof UnixChannel) {
            counters.udpFd = ((UnixChannel) udp).fd().intValue();
          }
          stats = new InstanceStatsEndpoint(vertx, counters);
          return stats.start(conf.statsIntervalMs());
        })
        .onSuccess(v -> {
          bound = new BoundInstance(id, counters.eventLoop, localPort(tcpListener), null);
          LOG.info("instance {} on {}: TCP {} UDP {}", id, counters.eventLoop, tcpListener.localAddress(),
              udpSocket.localAddress());
        })
        .onFailure(err -> {
          // nothing half-starts: a failed instance leaves no socket behind
          Drain.close(tcpListener);
          Drain.close(udpSocket);
        });
  }

  /**
   * Drains: stops accepting and receiving, lets open connections finish up to {@code drainTimeoutSeconds}, then
   * closes what is left.
   */
  @Override
  public Future<?> stop() {
    return Future.join(Drain.close(tcpListener), Drain.close(udpSocket))
        .transform(closed -> Drain.until(vertx, open::isEmpty,
            TimeUnit.SECONDS.toMillis(conf.drainTimeoutSeconds())))
        .transform(drained -> {
          if (!open.isEmpty()) {
            LOG.warn("instance {}: closing {} connections still open after the drain timeout", id, open.size());
            new ArrayList<>(open).forEach(Channel::close);
          }
          return stats == null ? Future.succeededFuture() : stats.stop();
        });
  }

  @Override
  public BoundInstance bound() {
    return bound;
  }

  private static int localPort(Channel channel) {
    return ((InetSocketAddress) channel.localAddress()).getPort();
  }

  /** Admits or rejects each accepted connection, then sets up its pipeline. */
  private final class Initializer extends ChannelInitializer<Channel> {
    private final Service service;

    Initializer(Service service) {
      this.service = service;
    }

    @Override
    protected void initChannel(Channel ch) {
      if (counters.tcpActive >= conf.maxConnectionsPerInstance()) {
        counters.tcpRejected++;
        ch.close();
        return;
      }
      counters.tcpAccepted++;
      counters.tcpActive++;
      if (conf.idleTimeoutSeconds() > 0) {
        ch.pipeline().addLast(new IdleStateHandler(0, 0, conf.idleTimeoutSeconds(), TimeUnit.SECONDS));
      }
      ch.pipeline().addLast(new TcpConnectionHandler(service, counters, open));
    }
  }
}
