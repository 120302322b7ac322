package io.reuseport.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.datagram.DatagramSocket;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.transport.Transport;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The peer bench/compare.sh measures this project against: what a Vert.x expert would run instead. N {@link Vertx}
 * instances in one JVM, each with one event loop on epoll, each with its own {@code NetServer} and
 * {@code DatagramSocket} with {@code setReusePort(true)} on one port (separate Vertx instances do not share a
 * server, so each binds its own socket), echoing TCP and UDP with the public API only, with the same idle timeout as
 * the server's default (300 s). Not a test: a main class, started by compare.sh from target/test-classes.
 *
 * <pre>java -cp target/reuseport-server.jar:target/test-classes io.reuseport.bench.VertxPeer PORT INSTANCES</pre>
 */
public final class VertxPeer {

  private static final int IDLE_TIMEOUT_SECONDS = 300;

  private VertxPeer() {
  }

  public static void main(String[] args) throws InterruptedException {
    if (args.length < 2) {
      System.err.println("usage: VertxPeer PORT INSTANCES [HOST]");
      System.exit(2);
    }
    int port = Integer.parseInt(args[0]);
    int instances = Integer.parseInt(args[1]);
    String host = args.length > 2 ? args[2] : "0.0.0.0";
    List<Future<?>> started = new ArrayList<>();
    for (int i = 0; i < instances; i++) {
      Vertx vertx = Vertx.builder()
          .with(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1).setInternalBlockingPoolSize(1))
          .withTransport(Transport.EPOLL)
          .build();
      if (!vertx.isNativeTransportEnabled()) {
        System.err.println("VertxPeer: no epoll: " + vertx.unavailableNativeTransportCause());
        System.exit(1);
      }
      started.add(vertx.createNetServer(new NetServerOptions()
              .setReusePort(true)
              .setReuseAddress(true)
              .setTcpNoDelay(true)
              .setIdleTimeout(IDLE_TIMEOUT_SECONDS)
              .setIdleTimeoutUnit(TimeUnit.SECONDS))
          .connectHandler(socket -> {
            socket.handler(socket::write);
            socket.endHandler(v -> socket.close());
          })
          .listen(port, host));
      DatagramSocket udp = vertx.createDatagramSocket(new DatagramSocketOptions()
          .setReusePort(true)
          .setReuseAddress(true));
      udp.handler(packet -> udp.send(packet.data(), packet.sender().port(), packet.sender().host()));
      started.add(udp.listen(port, host));
    }
    CountDownLatch done = new CountDownLatch(1);
    Future.all(started).onComplete(result -> {
      if (result.failed()) {
        System.err.println("VertxPeer: " + result.cause());
        System.exit(1);
      }
      System.out.println("VertxPeer: " + instances + " Vertx instances on port " + port);
      done.countDown();
    });
    done.await();
  }
}
