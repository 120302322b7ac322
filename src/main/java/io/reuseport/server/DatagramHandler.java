package io.reuseport.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.Socket;
import io.netty.channel.unix.UnixChannel;
import io.reuseport.service.Service;
import io.reuseport.stats.InstanceCounters;
import io.vertx.core.buffer.Buffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * The UDP socket of a reuseport instance: counts datagrams, hands them to the service, and batches replies (written
 * during a read batch, flushed once at its end). Nothing closes the socket: a bad datagram or a service error drops
 * that datagram only ("we can keep serving requests", as Netty's examples put it).
 *
 * <p>One handler per socket, not {@code @Sharable}: it holds that socket's state (the reply being sent, whether a
 * flush is due, the raw descriptor), so Netty refuses to add one instance to a second pipeline.
 */
final class DatagramHandler extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(DatagramHandler.class);

  private final Service service;
  private final InstanceCounters counters;
  private static final ByteBuffer EMPTY = ByteBuffer.allocateDirect(0);
  private final Reply reply = new Reply();
  private boolean needsFlush;
  /** The UDP socket's descriptor, for what Netty will not send; owned and closed by the channel. */
  private Socket rawSocket;

  DatagramHandler(Service service, InstanceCounters counters) {
    this.service = service;
    this.counters = counters;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    DatagramPacket packet = (DatagramPacket) msg;
    ByteBuf content = packet.content();
    try {
      counters.udpDatagramsIn++;
      counters.udpBytesIn += content.readableBytes();
      reply.ctx = ctx;
      reply.sender = packet.sender();
      reply.inBuf = content;
      reply.in = ReusePortBinder.wrap(content);
      service.onDatagram(reply.in, reply);
    } catch (Exception e) {
      counters.udpErrors++;
      LOG.debug("service error on datagram from {}: {}", packet.sender(), e.toString());
    } finally {
      reply.in = null;
      reply.inBuf = null;
      reply.sender = null;
      packet.release();
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (needsFlush) {
      needsFlush = false;
      ctx.flush();
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    counters.udpErrors++;
    LOG.debug("UDP socket error, still serving: {}", cause.toString());
  }

  private final class Reply implements Service.DatagramReply {
    private ChannelHandlerContext ctx;
    private InetSocketAddress sender;
    private Buffer in;
    private ByteBuf inBuf;

    @Override
    public void send(Buffer payload) {
      if (sender == null) {
        throw new IllegalStateException("a datagram reply can only be sent while its datagram is handled");
      }
      if (!ctx.channel().isWritable()) {
        counters.udpReplyDrops++;
        return;
      }
      ByteBuf out;
      if (payload == in) {
        out = inBuf.retainedSlice();
      } else {
        ByteBuf src = ReusePortBinder.unwrap(payload);
        out = ctx.alloc().ioBuffer(src.readableBytes()).writeBytes(src);
      }
      counters.udpDatagramsOut++;
      counters.udpBytesOut += out.readableBytes();
      if (!out.isReadable()) {
        out.release();
        sendEmpty(ctx, sender);
        return;
      }
      ctx.write(new DatagramPacket(out, sender), ctx.voidPromise());
      needsFlush = true;
    }
  }

  /**
   * Netty's datagram channels silently skip empty writes, but an empty datagram is valid UDP and an echo owes one
   * back: send it with {@code sendto(2)} on the channel's own descriptor, after what is queued before it.
   */
  private void sendEmpty(ChannelHandlerContext ctx, InetSocketAddress recipient) {
    if (!(ctx.channel() instanceof UnixChannel)) {
      counters.udpReplyDrops++;
      return;
    }
    ctx.flush();
    try {
      if (rawSocket == null) {
        rawSocket = new Socket(((UnixChannel) ctx.channel()).fd().intValue());
      }
      rawSocket.sendTo(EMPTY, 0, 0, recipient.getAddress(), recipient.getPort());
    } catch (IOException e) {
      counters.udpErrors++;
      LOG.debug("empty reply to {} failed: {}", recipient, e.toString());
    }
  }
}
