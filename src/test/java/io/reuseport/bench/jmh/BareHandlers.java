package io.reuseport.bench.jmh;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;

/**
 * The least a Netty server does per connection, message and datagram: the baselines the benchmarks hold this
 * server's handlers against. No options, admission, counters, open set, idle tracking or service.
 */
final class BareHandlers {

  private BareHandlers() {
  }

  /** Registers each accepted connection on the listener's loop with {@link #ECHO} as its only handler. */
  @ChannelHandler.Sharable
  static final class Acceptor extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      Channel connection = (Channel) msg;
      connection.pipeline().addLast(ECHO);
      ctx.channel().eventLoop().register(connection);
    }
  }

  /** Netty's {@code EchoServerHandler}: writes what it reads, flushes at the end of a read batch. */
  static final ChannelHandler ECHO = new Echo();

  /** Echoes each datagram to its sender: a slice of the received buffer, flushed at the end of a read batch. */
  static final ChannelHandler DATAGRAM_ECHO = new DatagramEcho();

  @ChannelHandler.Sharable
  private static final class Echo extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ctx.write(msg, ctx.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      ctx.flush();
    }
  }

  @ChannelHandler.Sharable
  private static final class DatagramEcho extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      DatagramPacket packet = (DatagramPacket) msg;
      ByteBuf content = packet.content();
      ctx.write(new DatagramPacket(content.retainedSlice(), packet.sender()), ctx.voidPromise());
      packet.release();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      ctx.flush();
    }
  }
}
