package io.reuseport.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.reuseport.service.Service;
import io.reuseport.stats.InstanceCounters;
import io.vertx.core.buffer.Buffer;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The UDP socket of a service, without sockets: Netty's {@link EmbeddedChannel} through the server's real
 * {@link DatagramHandler}. Replies are collected with their recipients. One thing differs from the server: an empty
 * reply needs the socket's descriptor ({@code sendto(2)}), which an embedded channel has not, so it is counted as a
 * drop; test empty datagrams against a real server ({@code @ServerUnderTest}).
 */
public final class EmbeddedUdp implements AutoCloseable {

  /** A reply of the service. */
  public record Reply(InetSocketAddress recipient, Buffer payload) {
  }

  private final EmbeddedChannel channel;
  private final InstanceCounters counters = new InstanceCounters(0, Thread.currentThread().getName());
  private final InetSocketAddress local = new InetSocketAddress("127.0.0.1", 9_999);

  private EmbeddedUdp(Service service) {
    channel = new EmbeddedChannel(new DatagramHandler(service, counters));
  }

  /** The UDP socket of {@code service}. */
  public static EmbeddedUdp bind(Service service) {
    return new EmbeddedUdp(service);
  }

  /** One datagram from {@code sender}, as a read batch of its own (replies are flushed after it). */
  public EmbeddedUdp receive(Buffer payload, InetSocketAddress sender) {
    ByteBuf content = Unpooled.directBuffer(payload.length()).writeBytes(payload.getBytes());
    channel.pipeline().fireChannelRead(new DatagramPacket(content, local, sender));
    channel.pipeline().fireChannelReadComplete();
    channel.runPendingTasks();
    return this;
  }

  /** The replies sent since the last call, in order (copied; the packets are released). */
  public List<Reply> replies() {
    List<Reply> all = new ArrayList<>();
    for (DatagramPacket out = channel.readOutbound(); out != null; out = channel.readOutbound()) {
      byte[] bytes = new byte[out.content().readableBytes()];
      out.content().readBytes(bytes);
      all.add(new Reply(out.recipient(), Buffer.buffer(bytes)));
      out.release();
    }
    return all;
  }

  /** The socket's counters, as the instance would report them. */
  public InstanceCounters counters() {
    return counters;
  }

  @Override
  public void close() {
    channel.finishAndReleaseAll();
  }
}
