package io.reuseport.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.MaxMessagesRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import io.reuseport.config.TransportKind;
import io.reuseport.testsupport.VertxClients;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.core.transport.Transport;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What each accepted connection gets from {@link ReusePortBinder} and {@link ConnectionAcceptor}, read back from
 * the sockets: the per-connection options the server no longer sets itself (Netty's configs do) are still in force,
 * and a set-up that fails, even with an {@link Error}, closes its connection.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ConnectionAcceptorTest {

  private Vertx server;
  /** Held: Vert.x closes a client (and its connections) once nothing refers to it, as if the server had. */
  private NetClient client;

  @AfterEach
  void close(VertxTestContext test) {
    (server == null ? Future.succeededFuture() : server.close()).onComplete(test.succeedingThenComplete());
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = TransportKind.class, names = {"EPOLL", "IO_URING"})
  void connectionsAreSetUpOnTheListenersLoopWithNoDelayAndTheHalfCloseSetting(TransportKind kind, Vertx vertx,
                                                                               VertxTestContext test) {
    assumeTrue(kind == TransportKind.EPOLL ? Epoll.isAvailable() : IoUring.isAvailable(), kind + " unavailable");
    server = Vertx.builder().withTransport(kind == TransportKind.EPOLL ? Transport.EPOLL : Transport.IO_URING).build();
    Context context = server.getOrCreateContext();
    List<Channel> accepted = new CopyOnWriteArrayList<>();
    List<Boolean> onListenerLoop = new CopyOnWriteArrayList<>();
    List<Boolean> noDelay = new CopyOnWriteArrayList<>();
    List<Boolean> halfClose = new CopyOnWriteArrayList<>();
    Promise<Void> twoAccepted = Promise.promise();
    Promise<Channel> bound = Promise.promise();
    context.runOnContext(v -> {
      ReusePortBinder binder = new ReusePortBinder(server, context, kind, false);
      binder.bindTcp(new InetSocketAddress("127.0.0.1", 0), 16, new ChannelInboundHandlerAdapter(), connection -> {
        onListenerLoop.add(connection.eventLoop() == binder.eventLoop() && connection.isRegistered());
        // read from the socket now: the client closes its side right after
        noDelay.add(connection.config().getOption(ChannelOption.TCP_NODELAY));
        halfClose.add(connection.config().getOption(ChannelOption.ALLOW_HALF_CLOSURE));
        accepted.add(connection);
        if (accepted.size() == 2) {
          twoAccepted.complete();
        }
      }).onComplete(bound);
    });
    client = vertx.createNetClient();
    bound.future()
        .compose(listener -> {
          int port = ((InetSocketAddress) listener.localAddress()).getPort();
          return Future.all(client.connect(port, VertxClients.LOOPBACK), client.connect(port, VertxClients.LOOPBACK));
        })
        .compose(clients -> twoAccepted.future().map(v -> clients.<NetSocket>list()))
        .compose(clients -> Future.all(clients.stream().map(NetSocket::close).toList()))
        .onComplete(test.succeeding(v -> test.verify(() -> {
          assertThat(onListenerLoop).containsExactly(true, true);
          assertThat(noDelay).as("TCP_NODELAY").containsExactly(true, true);
          assertThat(halfClose).as("ALLOW_HALF_CLOSURE").containsExactly(false, false);
          if (kind == TransportKind.EPOLL) {
            RecvByteBufAllocator first = accepted.get(0).config().getRecvByteBufAllocator();
            assertThat(accepted.get(1).config().<RecvByteBufAllocator>getRecvByteBufAllocator())
                .as("one read-size predictor per listener").isSameAs(first);
            assertThat(((MaxMessagesRecvByteBufAllocator) first).maxMessagesPerRead()).isEqualTo(16);
            assertThat(guessAfterSmallReads(first))
                .as("read buffer after many 64-byte reads: larger than the message, so one read takes it")
                .isEqualTo(ReusePortBinder.STREAM_MIN_READ_BYTES);
          }
          test.completeNow();
        })));
  }

  @Test
  void aSetUpThatThrowsAnErrorClosesTheConnection(Vertx vertx, VertxTestContext test) {
    assumeTrue(Epoll.isAvailable(), "epoll unavailable");
    server = Vertx.builder().withTransport(Transport.EPOLL).build();
    Context context = server.getOrCreateContext();
    Promise<Channel> bound = Promise.promise();
    context.runOnContext(v -> new ReusePortBinder(server, context, TransportKind.EPOLL, false)
        .bindTcp(new InetSocketAddress("127.0.0.1", 0), 16, new ChannelInboundHandlerAdapter(), connection -> {
          throw new NoClassDefFoundError("io/example/MissingHandler");
        })
        .onComplete(bound));
    bound.future()
        .compose(listener -> {
          client = vertx.createNetClient();
          return client.connect(((InetSocketAddress) listener.localAddress()).getPort(), VertxClients.LOOPBACK);
        })
        .compose(VertxClients::closedByServer)
        .onComplete(test.succeeding(sent -> test.verify(() -> {
          assertThat(sent.length()).as("bytes sent before closing").isZero();
          test.completeNow();
        })));
  }

  /**
   * What the read-size predictor picks for a connection that only ever receives 64-byte messages: Netty's own floor
   * (64) would make every read fill its buffer exactly, and Netty read again only to get {@code EAGAIN}.
   */
  private static int guessAfterSmallReads(RecvByteBufAllocator sizes) {
    RecvByteBufAllocator.ExtendedHandle handle = (RecvByteBufAllocator.ExtendedHandle) sizes.newHandle();
    for (int batch = 0; batch < 100; batch++) {
      handle.reset(new DefaultChannelConfig(new EmbeddedChannel()));
      handle.attemptedBytesRead(handle.guess());
      handle.lastBytesRead(64);
      handle.incMessagesRead(1);
      handle.readComplete();
    }
    return handle.guess();
  }
}
