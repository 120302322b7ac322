package io.reuseport.bench.jmh;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.reuseport.server.ServerHandlers;
import io.reuseport.service.EchoService;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * The Java work of one echoed message in the pipeline, without sockets: a read of {@code size} bytes into a buffer
 * of the channel's allocator, the end of the read batch, the echo written and flushed into an
 * {@link EmbeddedChannel}, and the written buffer taken and released (as the socket's write would). {@code tcp}:
 * {@code server} is {@code TcpConnectionHandler} with the echo service (counters, idle tick, the service's
 * {@code Buffer} wrapper, a retained slice), {@code bare} Netty's echo handler; {@code datagram}: {@code server} is
 * {@code DatagramHandler} with the echo service, {@code bare} a handler that writes a retained slice back to the
 * sender. One flush per message: the server flushes once per read batch, so a batch of several messages costs less.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 10, time = 1)
@Measurement(iterations = 5, time = 1)
public class MessageBenchmark {

  /** {@code server}: this server's handlers; {@code bare}: Netty's minimum. */
  @Param({"server", "bare"})
  public String pipeline;

  /** Bytes per message (bench/churn.c and compare.sh's echo loads send 32). */
  @Param({"32"})
  public int size;

  private final InetSocketAddress local = new InetSocketAddress("127.0.0.1", 9_000);
  private final InetSocketAddress sender = new InetSocketAddress("127.0.0.1", 40_000);
  private byte[] payload;
  private EmbeddedChannel tcp;
  private EmbeddedChannel udp;

  @Setup(Level.Trial)
  public void setUp() {
    payload = new byte[size];
    Arrays.fill(payload, (byte) 'x');
    ServerHandlers server = new ServerHandlers(new EchoService(), true);
    tcp = new EmbeddedChannel();
    udp = new EmbeddedChannel();
    if ("server".equals(pipeline)) {
      tcp.pipeline().addLast(ServerHandlers.connectionHandlerName(), server.connectionHandler());
      udp.pipeline().addLast(server.datagramHandler());
    } else {
      tcp.pipeline().addLast(BareHandlers.ECHO);
      udp.pipeline().addLast(BareHandlers.DATAGRAM_ECHO);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    tcp.finishAndReleaseAll();
    udp.finishAndReleaseAll();
  }

  /** One TCP read, echoed and flushed. */
  @Benchmark
  public int tcp() {
    ByteBuf in = tcp.alloc().ioBuffer(size).writeBytes(payload);
    tcp.pipeline().fireChannelRead(in);
    tcp.pipeline().fireChannelReadComplete();
    ByteBuf out = tcp.readOutbound();
    int echoed = out.readableBytes();
    out.release();
    return echoed;
  }

  /** One datagram, echoed to its sender and flushed. */
  @Benchmark
  public int datagram() {
    ByteBuf in = udp.alloc().ioBuffer(size).writeBytes(payload);
    udp.pipeline().fireChannelRead(new DatagramPacket(in, local, sender));
    udp.pipeline().fireChannelReadComplete();
    DatagramPacket out = udp.readOutbound();
    int echoed = out.content().readableBytes();
    out.release();
    return echoed;
  }
}
