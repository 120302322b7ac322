package io.reuseport.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.FixedRecvByteBufAllocator;
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

/**
 * Binds sockets on one verticle's own Netty event loop, below the Vert.x API, with Vert.x's transport. This is the
 * server's only class that uses {@code io.vertx.core.internal} (the load client has its own, {@code LoopChannels}):
 * Vert.x's {@code NetServer} binds one socket per Vertx instance whatever {@code setReusePort} says, so each instance
 * binds its own here.
 */
final class ReusePortBinder {

  /** Room for the largest UDP payload (65,507 bytes over IPv4, 65,527 over IPv6): datagrams are read whole. */
  static final int MAX_DATAGRAM = 65_536;
  /** Datagrams per {@code recvmmsg} call on epoll. */
  static final int BATCH = 8;

  private final ContextInternal context;
  private final Transport transport;
  private final TransportKind kind;

  ReusePortBinder(Vertx vertx, Context context, TransportKind kind) {
    this.context = (ContextInternal) context;
    this.transport = ((VertxInternal) vertx).transport();
    this.kind = kind;
  }

  /** The Netty event loop of the verticle this binder belongs to. */
  EventLoop eventLoop() {
    return context.nettyEventLoop();
  }

  /**
   * Binds one TCP listener with {@code SO_REUSEPORT}; it accepts and serves its connections on this loop.
   *
   * @param listenerHandler goes in the listener's own pipeline (it sees the listener's accept errors)
   */
  Future<Channel> bindTcp(InetSocketAddress address, int backlog, ChannelHandler listenerHandler,
                          ChannelHandler childInitializer) {
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(eventLoop())
        .channelFactory(serverChannelFactory(address))
        .handler(listenerHandler)
        .childHandler(childInitializer);
    NetServerOptions options = new NetServerOptions()
        .setReusePort(true)
        .setReuseAddress(true)
        .setAcceptBacklog(backlog)
        .setTcpNoDelay(true);
    transport.configure(options, false, bootstrap);
    // Vert.x sets these to their kernel defaults on every accepted socket: a setsockopt each, per connection, for
    // nothing
    bootstrap.childOption(ChannelOption.SO_KEEPALIVE, null);
    bootstrap.childOption(EpollChannelOption.TCP_QUICKACK, null);
    bootstrap.childOption(EpollChannelOption.TCP_CORK, null);
    // Netty's epoll socket config already enables TCP_NODELAY when it builds each accepted channel (on every
    // platform but Android): setting it again is a second setsockopt per connection
    if (kind == TransportKind.EPOLL) {
      bootstrap.childOption(ChannelOption.TCP_NODELAY, null);
    }
    // half-closed peers (shutdown(SHUT_WR)) still get their pending replies before we close
    bootstrap.childOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    return toFuture(bootstrap.bind(address));
  }

  /**
   * Serves a TCP listener that is already bound and listening (received from the process taken over) on this loop,
   * exactly as {@link #bindTcp} serves its own. Epoll only: the descriptor is wrapped in an epoll channel.
   */
  Future<Channel> adoptTcp(int fd, ChannelHandler listenerHandler, ChannelHandler childInitializer) {
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(eventLoop())
        .channelFactory(() -> new EpollServerSocketChannel(fd))
        .handler(listenerHandler)
        .childHandler(childInitializer)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    return toFuture(bootstrap.register());
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
