package io.reuseport.load;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.reuseport.netty.NettyFutures;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * A TCP worker. In {@code tcp-churn} every request is a new connection (connect, send the payload, read the echo,
 * close), so every request has a new source port; in {@code tcp-echo} the connection stays open and carries the
 * next payload, and is opened anew only after a failure. Latency is measured from the request's start, so in churn
 * it includes the connect. Channels are raw Netty channels on the worker's own event loop.
 */
final class TcpLoad extends LoadWorker {

  private static final IOException CLOSED_BY_PEER = new IOException("connection closed by the server");

  private final Bootstrap bootstrap;
  private final InetSocketAddress remote;
  private final ByteBuf payload;
  private final int payloadLength;
  private final boolean keepAlive;
  private Channel channel;
  private int received;

  /**
   * @param payload shared by all workers, never released: each write sends a duplicate
   */
  TcpLoad(Vertx vertx, LoadRecorder recorder, RequestBudget budget, LoadOptions options, InetSocketAddress remote,
          ByteBuf payload) {
    super(vertx, recorder, budget, options);
    this.remote = remote;
    this.payload = payload;
    this.payloadLength = payload.readableBytes();
    this.keepAlive = options.mode() == LoadMode.TCP_ECHO;
    this.bootstrap = LoopChannels.bootstrap(vertx.getOrCreateContext())
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, options.timeout().toMillis()))
        .handler(new Answers());
  }

  @Override
  protected void send(long gen) {
    if (channel != null) {
      write(channel);
      return;
    }
    bootstrap.connect(remote).addListener((ChannelFuture attempt) -> {
      if (attempt.isSuccess()) {
        // the server accepts it even when this request has timed out meanwhile: count it either way
        connected();
      }
      if (!awaiting(gen)) {
        attempt.channel().close();
        return;
      }
      if (!attempt.isSuccess()) {
        connectFailed(gen, attempt.cause());
        return;
      }
      channel = attempt.channel();
      write(channel);
    });
  }

  private void write(Channel ch) {
    received = 0;
    ch.writeAndFlush(payload.duplicate(), ch.voidPromise());
  }

  @Override
  protected Future<Void> afterRequest(boolean ok) {
    if ((ok && keepAlive) || channel == null) {
      return Future.succeededFuture();
    }
    return close();
  }

  @Override
  protected Future<Void> close() {
    Channel ch = channel;
    channel = null;
    return NettyFutures.close(ch);
  }

  /**
   * Counts the echo's bytes. One instance serves the worker's successive channels (one at a time, all on the
   * worker's loop); events of a channel that is no longer the current one are ignored.
   */
  @ChannelHandler.Sharable
  private final class Answers extends ChannelInboundHandlerAdapter {

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf data = (ByteBuf) msg;
      int n = data.readableBytes();
      data.release();
      if (ctx.channel() == channel) {
        received += n;
        if (received >= payloadLength) {
          succeeded(generation());
        }
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (ctx.channel() == channel) {
        channel = null;
        failed(generation(), CLOSED_BY_PEER);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (ctx.channel() == channel) {
        failed(generation(), cause);
      }
      ctx.close();
    }
  }
}
