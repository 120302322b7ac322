package io.reuseport.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.buffer.Unpooled;
import io.reuseport.service.Service;
import io.reuseport.stats.InstanceCounters;
import io.vertx.core.buffer.Buffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Set;

/**
 * One accepted TCP connection of a reuseport instance: counts its bytes, hands them to the service, and applies
 * backpressure (no reads while the write queue is above its high-water mark). A service error, a socket error or
 * the peer's reset closes this connection only; how it ended is counted by {@link ConnectionAdmission}.
 */
final class TcpConnectionHandler extends ChannelInboundHandlerAdapter implements Service.TcpSession,
    IdleSweeper.Activity {

  private static final Logger LOG = LoggerFactory.getLogger(TcpConnectionHandler.class);
  /** Its name in the pipeline: a given name spares Netty generating one per connection. */
  static final String NAME = "connection";

  private final Service service;
  private final ConnectionAdmission admission;
  private final InstanceCounters counters;
  private final Set<Channel> open;
  private final IdleSweeper idle;
  /** The {@link IdleSweeper} tick of this connection's last read or write. */
  private long lastActiveTick;
  private Channel channel;
  private Service.TcpHandler handler;
  private Buffer currentIn;
  private ByteBuf currentInBuf;
  private boolean needsFlush;
  /** What ended this connection first, counted when it closes. */
  private ConnectionAdmission.Ending ending = ConnectionAdmission.Ending.CLEAN;

  TcpConnectionHandler(Service service, ConnectionAdmission admission, Set<Channel> open, IdleSweeper idle) {
    this.service = service;
    this.admission = admission;
    this.counters = admission.counters();
    this.open = open;
    this.idle = idle;
    this.lastActiveTick = idle.tick();
  }

  @Override
  public long lastActiveTick() {
    return lastActiveTick;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    channel = ctx.channel();
    open.add(channel);
    try {
      handler = service.onConnect(this);
    } catch (Throwable t) {
      // an Error too (a plug-in's missing class, a stack overflow): thrown out of here, Netty would remove this
      // handler, log the error and leave the connection open, counted active, with nothing to close or count it
      fail(t);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (open.remove(channel)) {
      admission.closed(ending);
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf buf = (ByteBuf) msg;
    try {
      counters.tcpBytesIn += buf.readableBytes();
      lastActiveTick = idle.tick();
      if (handler != null && channel.isOpen()) {
        currentInBuf = buf;
        currentIn = ReusePortBinder.wrap(buf);
        handler.onData(currentIn);
      }
    } catch (Throwable t) {
      fail(t);
    } finally {
      currentIn = null;
      currentInBuf = null;
      buf.release();
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
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (channel.isWritable() && !channel.config().isAutoRead()) {
      channel.config().setAutoRead(true);
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      if (handler != null) {
        try {
          handler.onEnd(this);
        } catch (Throwable t) {
          fail(t);
        }
      }
      channelReadComplete(ctx);
    } else {
      ctx.fireUserEventTriggered(evt);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // a reset can surface once per pending read and write: the connection counts once, when it closes
    ending = ending.then(ConnectionAdmission.Ending.of(cause));
    LOG.debug("connection {} failed: {}", channel.remoteAddress(), cause.toString());
    channel.close();
  }

  @Override
  public void write(Buffer data) {
    if (!channel.isActive()) {
      return;
    }
    ByteBuf out;
    if (data == currentIn) {
      out = currentInBuf.retainedSlice();
    } else {
      ByteBuf src = ReusePortBinder.unwrap(data);
      out = channel.alloc().ioBuffer(src.readableBytes()).writeBytes(src);
    }
    counters.tcpBytesOut += out.readableBytes();
    lastActiveTick = idle.tick();
    channel.write(out, channel.voidPromise());
    if (currentIn == null) {
      // written outside a read (e.g. from a timer): nobody else will flush it
      channel.flush();
    } else {
      needsFlush = true;
    }
    if (!channel.isWritable()) {
      channel.config().setAutoRead(false);
    }
  }

  @Override
  public void close() {
    channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
  }

  @Override
  public int instanceId() {
    return counters.instanceId;
  }

  /**
   * The service threw: the connection is closed and counts one error. Errors are handled as exceptions are, not
   * rethrown: on an event loop, Netty and Vert.x would only catch and log them, and the connection would stay open.
   */
  private void fail(Throwable cause) {
    ending = ending.then(ConnectionAdmission.Ending.FAILED);
    LOG.warn("service error on connection {}, closing it: {}", channel.remoteAddress(), cause.toString());
    channel.close();
  }
}
