package io.reuseport.load;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;
import io.reuseport.netty.NettyFutures;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.net.InetSocketAddress;
import java.util.Arrays;

/**
 * A UDP flow: its own socket (so its own source port and 4-tuple), one datagram in flight. A datagram whose echo
 * does not come back within the timeout counts as a timeout (lost), and the next one is sent. Payloads of 8 bytes
 * or more carry the request's generation, so a late echo is told apart from the answer to the current datagram.
 * The socket is a raw Netty datagram channel on the worker's own event loop.
 */
final class UdpEchoLoad extends LoadWorker {

  private static final int SEQUENCE_BYTES = Long.BYTES;

  private final InetSocketAddress remote;
  private final int payloadLength;
  private final byte[] filler;
  private Channel channel;

  UdpEchoLoad(Vertx vertx, LoadRecorder recorder, RequestBudget budget, LoadOptions options,
              InetSocketAddress remote) {
    super(vertx, recorder, budget, options);
    this.remote = remote;
    this.payloadLength = options.payload();
    this.filler = new byte[payloadLength];
    Arrays.fill(filler, (byte) 'x');
  }

  @Override
  protected Future<Void> open() {
    return NettyFutures.channel(LoopChannels.datagramBootstrap(vertx.getOrCreateContext())
            .handler(new Echoes())
            .bind(new InetSocketAddress(0)))
        .map(bound -> {
          channel = bound;
          return null;
        });
  }

  @Override
  protected void send(long gen) {
    ByteBuf datagram = channel.alloc().directBuffer(payloadLength);
    if (payloadLength >= SEQUENCE_BYTES) {
      datagram.writeLong(gen);
    }
    datagram.writeBytes(filler, 0, payloadLength - datagram.writerIndex());
    channel.writeAndFlush(new DatagramPacket(datagram, remote), channel.voidPromise());
    sentDatagram();
  }

  @Override
  protected Future<Void> afterRequest(boolean ok) {
    return Future.succeededFuture();
  }

  @Override
  protected Future<Void> close() {
    Channel ch = channel;
    channel = null;
    return NettyFutures.close(ch);
  }

  /** Matches echoes to the datagram in flight. A send error fails that datagram; the socket stays open. */
  private final class Echoes extends ChannelInboundHandlerAdapter {

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      DatagramPacket packet = (DatagramPacket) msg;
      ByteBuf data = packet.content();
      long gen = payloadLength >= SEQUENCE_BYTES && data.readableBytes() >= SEQUENCE_BYTES
          ? data.getLong(data.readerIndex()) : generation();
      packet.release();
      if (awaiting(gen)) {
        succeeded(gen);
      } else {
        late();
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      failed(generation(), cause);
    }
  }
}
