package io.reuseport.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;
import io.reuseport.service.Service;
import io.reuseport.stats.InstanceCounters;
import io.vertx.core.buffer.Buffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;

/**
 * The UDP socket of a reuseport instance: counts datagrams, hands them to the service, and batches replies (written
 * during a read batch, flushed once at its end). Nothing closes the socket: a bad datagram or a service error drops
 * that datagram only ("we can keep serving requests", as Netty's examples put it).
 */
@ChannelHandler.Sharable
final class DatagramHandler extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(DatagramHandler.class);

  private final Service service;
  private final InstanceCounters counters;
  private final Reply reply = new Reply();
  private boolean needsFlush;

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
      ctx.write(new DatagramPacket(out, sender), ctx.voidPromise());
      needsFlush = true;
    }
  }
}
