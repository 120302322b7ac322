package io.reuseport.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import io.reuseport.config.TransportKind;
import io.reuseport.netty.NettyFutures;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.PromiseInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.spi.transport.Transport;

import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Binds sockets on one verticle's own Netty event loop, below the Vert.x API, with Vert.x's transport. This is the
 * server's only class that uses {@code io.vertx.core.internal} (the load client has its own, {@code LoopChannels}):
 * Vert.x's {@code NetServer} binds one socket per Vertx instance whatever {@code setReusePort} says, so each instance
 * binds its own here.
 */
final class ReusePortBinder {

  /** Room for the largest UDP payload (65,507 bytes over IPv4, 65,527 over IPv6): datagrams are read whole. */
  static final int MAX_DATAGRAM = 65_536;
  /**
   * Datagrams per {@code recvmmsg} call on epoll. Measured against 16 and 32 (bench/ANALYSIS.md, UDP echo): 16 saved
   * nothing, and at 32 the 2 MB batch buffer is beyond what Netty's allocator pools, so every read zeroes a new one.
   */
  static final int BATCH = 8;
  /** Netty's default for stream channels ({@code ChannelMetadata.defaultMaxMessagesPerRead} of epoll's). */
  private static final int STREAM_READS_PER_EVENT = 16;
  /**
   * The smallest read buffer a connection's predictor may choose (Netty's default is 64 bytes). A read that fills its
   * buffer exactly tells Netty there may be more, so it reads again and gets {@code EAGAIN}: with a 64-byte floor,
   * 64-byte messages cost two {@code recvfrom} each once the predictor has shrunk. 512 bytes keeps messages of up to
   * 511 bytes at one read each; the buffer lives only until the read batch is flushed.
   */
  static final int STREAM_MIN_READ_BYTES = 512;
  /** Netty's initial and largest read buffer for stream channels, unchanged. */
  private static final int STREAM_INITIAL_READ_BYTES = 2048;
  private static final int STREAM_MAX_READ_BYTES = 65_536;

  private final ContextInternal context;
  private final Transport transport;
  private final TransportKind kind;
  private final boolean halfClose;

  /**
   * @param halfClose whether a connection whose peer shut its sending side down stays open for the replies (Netty's
   *     {@code ALLOW_HALF_CLOSURE}; see the {@code tcpHalfClose} setting)
   */
  ReusePortBinder(Vertx vertx, Context context, TransportKind kind, boolean halfClose) {
    this.context = (ContextInternal) context;
    this.transport = ((VertxInternal) vertx).transport();
    this.kind = kind;
    this.halfClose = halfClose;
  }

  /** The Netty event loop of the verticle this binder belongs to. */
  EventLoop eventLoop() {
    return context.nettyEventLoop();
  }

  /**
   * Binds one TCP listener with {@code SO_REUSEPORT}; it accepts and serves its connections on this loop.
   *
   * @param listenerHandler goes in the listener's own pipeline (it sees the listener's accept errors)
   * @param setup sets up each accepted connection once it is registered on this loop
   */
  Future<Channel> bindTcp(InetSocketAddress address, int backlog, ChannelHandler listenerHandler,
                          ConnectionAcceptor.Setup setup) {
    // the options Vert.x's transport gives a NetServer's listener, as its own TCP server does
    ServerBootstrap options = new ServerBootstrap();
    transport.configure(new NetServerOptions()
        .setReusePort(true)
        .setReuseAddress(true)
        .setAcceptBacklog(backlog), false, options);
    Channel listener = serverChannelFactory(address).newChannel();
    ConnectionAcceptor.setOptions(listener, List.copyOf(options.config().options().entrySet()));
    // Not Vert.x's options for each connection: they set keep-alive, quick ack and cork to the kernel's defaults and
    // TCP_NODELAY, which Netty's epoll and io_uring socket configs already enable when they build each accepted
    // channel (on every platform but Android): a setsockopt each per connection for nothing
    return serve(listener, listenerHandler, setup, registered -> toFuture(listener.bind(address)));
  }

  /**
   * Serves a TCP listener that is already bound and listening (received from the process taken over) on this loop,
   * exactly as {@link #bindTcp} serves its own. Epoll only: the descriptor is wrapped in an epoll channel, whose
   * connections get {@code TCP_NODELAY} from Netty.
   */
  Future<Channel> adoptTcp(int fd, ChannelHandler listenerHandler, ConnectionAcceptor.Setup setup) {
    return serve(new EpollServerSocketChannel(fd), listenerHandler, setup, Future::succeededFuture);
  }

  /**
   * Registers a listener on this loop with its handler and a {@link ConnectionAcceptor}, then runs {@code start}
   * (bind, or nothing for a listener that already listens); closes the listener if either fails.
   */
  private Future<Channel> serve(Channel listener, ChannelHandler listenerHandler, ConnectionAcceptor.Setup setup,
                                Function<Channel, Future<Channel>> start) {
    ConnectionAcceptor acceptor = new ConnectionAcceptor(setup, connectionOptions(listener, halfClose));
    listener.pipeline().addLast(listenerHandler, acceptor);
    return toFuture(eventLoop().register(listener))
        .compose(start)
        .onFailure(err -> listener.close());
  }

  /** The options each connection of {@code listener} gets before it is registered (Netty's child options). */
  static Map<ChannelOption<?>, Object> connectionOptions(Channel listener, boolean halfClose) {
    Map<ChannelOption<?>, Object> options = new LinkedHashMap<>();
    // By default half-closed peers (shutdown(SHUT_WR)) still get their pending replies before we close, and the
    // service hears of the end; that costs a shutdown(SHUT_RD) per connection, which closing at once saves
    options.put(ChannelOption.ALLOW_HALF_CLOSURE, halfClose);
    if (listener instanceof EpollServerSocketChannel) {
      // one read-size predictor for all of this listener's connections instead of one each (each connection still
      // has its own predictions): 32 bytes less per open connection
      options.put(ChannelOption.RCVBUF_ALLOCATOR, streamReadSizes());
    }
    return options;
  }

  /**
   * What Netty's epoll transport gives each stream channel by default, as one shareable object, but for the smallest
   * read buffer ({@link #STREAM_MIN_READ_BYTES}): {@link AdaptiveRecvByteBufAllocator} keeps no state per channel
   * (its handles do), and 16 reads per readiness event is Netty's default for TCP.
   */
  private static RecvByteBufAllocator streamReadSizes() {
    return new AdaptiveRecvByteBufAllocator(STREAM_MIN_READ_BYTES, STREAM_INITIAL_READ_BYTES, STREAM_MAX_READ_BYTES)
        .maxMessagesPerRead(STREAM_READS_PER_EVENT);
  }

  /** Serves a UDP socket that is already bound (received from the process taken over) on this loop. */
  Future<Channel> adoptUdp(int fd, int receiveBufferBytes, ChannelHandler handler) {
    EpollDatagramChannel channel = new EpollDatagramChannel(fd);
    if (receiveBufferBytes > 0) {
      channel.config().setReceiveBufferSize(receiveBufferBytes);
    }
    channel.config().setRecvByteBufAllocator(new FixedRecvByteBufAllocator(MAX_DATAGRAM + 1));
    channel.pipeline().addLast(handler);
    return toFuture(eventLoop().register(channel));
  }

  /**
   * Binds one UDP socket with {@code SO_REUSEPORT} on this loop.
   *
   * @param receiveBufferBytes {@code SO_RCVBUF}, 0 for the kernel default
   */
  Future<Channel> bindUdp(InetSocketAddress address, int receiveBufferBytes, ChannelHandler handler) {
    DatagramChannel channel = datagramChannel(address);
    transport.configure(channel, new DatagramSocketOptions().setReusePort(true).setReuseAddress(true));
    if (receiveBufferBytes > 0) {
      channel.config().setReceiveBufferSize(receiveBufferBytes);
    }
    if (channel instanceof EpollDatagramChannel) {
      // recvmmsg: one read fills BATCH segments, each large enough for the largest datagram (never truncated)
      channel.config().setOption(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, MAX_DATAGRAM);
      channel.config().setRecvByteBufAllocator(new FixedRecvByteBufAllocator(MAX_DATAGRAM * BATCH));
    } else {
      // one buffer per read that holds the largest datagram whole
      channel.config().setRecvByteBufAllocator(new FixedRecvByteBufAllocator(MAX_DATAGRAM));
    }
    channel.pipeline().addLast(handler);
    PromiseInternal<Channel> promise = context.promise();
    NettyFutures.channel(eventLoop().register(channel))
        .compose(registered -> NettyFutures.channel(channel.bind(address)))
        .onComplete(promise);
    return promise.future();
  }

  /** Wraps a received Netty buffer without copying; the caller keeps ownership. */
  static Buffer wrap(ByteBuf buf) {
    return BufferInternal.buffer(buf);
  }

  /** The Netty buffer behind a Vert.x buffer, not retained: copy or retain it before it outlives the call. */
  static ByteBuf unwrap(Buffer buffer) {
    return ((BufferInternal) buffer).getByteBuf();
  }

  private ChannelFactory<? extends ServerChannel> serverChannelFactory(InetSocketAddress address) {
    if (kind == TransportKind.EPOLL && isIpv4(address)) {
      // An IPv4 socket, not Netty's default dual-stack one: the kernel scores AF_INET listeners above v4-mapped
      // AF_INET6 ones, so a foreign AF_INET process on the port would otherwise take every IPv4 connection.
      return () -> new EpollServerSocketChannel(SocketProtocolFamily.INET);
    }
    return transport.serverChannelFactory(false);
  }

  private DatagramChannel datagramChannel(InetSocketAddress address) {
    if (kind == TransportKind.EPOLL && isIpv4(address)) {
      return new EpollDatagramChannel(SocketProtocolFamily.INET);
    }
    return transport.datagramChannel();
  }

  private static boolean isIpv4(InetSocketAddress address) {
    return address.getAddress() instanceof Inet4Address;
  }

  /** Completes on this verticle's context, so that the instance's callbacks run there. */
  private Future<Channel> toFuture(ChannelFuture channelFuture) {
    return NettyFutures.channel(channelFuture, context.promise());
  }
}
