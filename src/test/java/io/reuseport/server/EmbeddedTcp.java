package io.reuseport.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.reuseport.service.Service;
import io.reuseport.stats.InstanceCounters;
import io.vertx.core.buffer.Buffer;

import java.util.HashSet;
import java.util.Set;

/**
 * One TCP connection of a service, without sockets: Netty's {@link EmbeddedChannel} through the server's real
 * {@link TcpConnectionHandler}, so the service sees exactly what it sees in the server (pooled buffers valid during
 * the call, writes flushed at the end of a read batch, backpressure by {@code autoRead}). Not thread-safe: drive it
 * from the test's thread. Close it to release what the service sent and nobody read.
 */
public final class EmbeddedTcp implements AutoCloseable {

  private final EmbeddedChannel channel;
  private final InstanceCounters counters = new InstanceCounters(0, Thread.currentThread().getName());
  private final Set<Channel> open = new HashSet<>();

  private EmbeddedTcp(Service service, WriteBufferWaterMark waterMark) {
    channel = new EmbeddedChannel();
    channel.config().setWriteBufferWaterMark(waterMark);
    ConnectionAdmission admission = new ConnectionAdmission(counters, Integer.MAX_VALUE);
    admission.admit();
    channel.pipeline().addLast(new TcpConnectionHandler(service, admission, open, new IdleSweeper(open)));
  }

  /** A connection to {@code service} with Netty's default write-queue marks (32 KiB low, 64 KiB high). */
  public static EmbeddedTcp connect(Service service) {
    return connect(service, WriteBufferWaterMark.DEFAULT);
  }

  /** A connection whose write queue counts as full above {@code waterMark.high()} bytes. */
  public static EmbeddedTcp connect(Service service, WriteBufferWaterMark waterMark) {
    return new EmbeddedTcp(service, waterMark);
  }

  /** Bytes from the peer, as one read of a batch still going on (nothing flushed yet). */
  public EmbeddedTcp read(Buffer data) {
    return read(Unpooled.directBuffer(data.length()).writeBytes(data.getBytes()));
  }

  /** Bytes from the peer in a buffer of the caller's, handed over: the server releases it, as it does its own. */
  public EmbeddedTcp read(ByteBuf data) {
    channel.pipeline().fireChannelRead(data);
    return this;
  }

  /** The end of a read batch: the server flushes what the service wrote during it. */
  public EmbeddedTcp readComplete() {
    channel.pipeline().fireChannelReadComplete();
    channel.runPendingTasks();
    return this;
  }

  /** The peer shut its sending side down ({@code shutdown(SHUT_WR)}): the service's {@code onEnd}. */
  public EmbeddedTcp endInput() {
    channel.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
    channel.runPendingTasks();
    return this;
  }

  /** Every byte the server sent to the peer since the last call, in order (copied; the buffers are released). */
  public Buffer sent() {
    Buffer all = Buffer.buffer();
    for (ByteBuf out = channel.readOutbound(); out != null; out = channel.readOutbound()) {
      byte[] bytes = new byte[out.readableBytes()];
      out.readBytes(bytes);
      out.release();
      all.appendBytes(bytes);
    }
    return all;
  }

  /** The next buffer the server sent, as it is (the caller releases it), or {@code null}. */
  public ByteBuf nextSent() {
    return channel.readOutbound();
  }

  /** Whether the server still reads from this connection (backpressure turns this off while the queue is full). */
  public boolean isReading() {
    return channel.config().isAutoRead();
  }

  /** Whether the connection is open. */
  public boolean isOpen() {
    return channel.isOpen();
  }

  /** The connection's counters, as the instance would report them. */
  public InstanceCounters counters() {
    return counters;
  }

  /** Closes the connection and releases what was sent and not read. */
  @Override
  public void close() {
    channel.finishAndReleaseAll();
  }
}
