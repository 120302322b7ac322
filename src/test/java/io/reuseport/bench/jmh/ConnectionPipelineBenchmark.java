package io.reuseport.bench.jmh;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.embedded.EmbeddedChannel;
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

import java.util.concurrent.TimeUnit;

/**
 * The Java work of one connection's set-up and tear-down in the pipeline, without sockets: an accepted connection
 * (an unregistered {@link EmbeddedChannel}) goes through a listener's pipeline, is registered, becomes active and
 * is closed. {@code server}: this server's listener handlers ({@code AcceptFailures}, {@code ConnectionAcceptor}
 * with its options, admission, {@code TcpConnectionHandler} with the echo service, the open set and the counters);
 * {@code bare}: an acceptor that only registers it with Netty's echo handler. The difference is what this
 * server's code adds to a connection; neither includes the kernel or Netty's epoll channel (see
 * {@link AcceptedChannelBenchmark}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 10, time = 1)
@Measurement(iterations = 5, time = 1)
public class ConnectionPipelineBenchmark {

  /** {@code server}: this server's handlers; {@code bare}: Netty's minimum. */
  @Param({"server", "bare"})
  public String pipeline;

  private ServerHandlers server;
  private EmbeddedChannel listener;

  @Setup(Level.Trial)
  public void setUp() {
    server = new ServerHandlers(new EchoService(), true);
    listener = new EmbeddedChannel();
    ChannelHandler[] handlers = "server".equals(pipeline)
        ? server.listenerHandlers(listener) : new ChannelHandler[] {new BareHandlers.Acceptor()};
    listener.pipeline().addLast(handlers);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    listener.finishAndReleaseAll();
    if (server.openConnections() != 0 || server.counters().tcpAccepted != server.counters().tcpClosed) {
      throw new IllegalStateException("connections left open: " + server.openConnections());
    }
  }

  /** One connection accepted, registered, active, closed and deregistered. */
  @Benchmark
  public boolean connection() {
    EmbeddedChannel connection = EmbeddedChannel.builder()
        .parent(listener)
        .channelId(listener.id())
        .register(false)
        .config(new SocketLikeConfig(listener))
        .build();
    listener.pipeline().fireChannelRead(connection);
    connection.close();
    // the deregistration runs as a task of the loop the connection was registered on: the listener's
    listener.runPendingTasks();
    return connection.isRegistered();
  }

  /**
   * An embedded channel's config that takes {@link ChannelOption#ALLOW_HALF_CLOSURE} as a socket channel's does (the
   * server sets it on every connection). Netty's config wants its channel when it is built, before the embedded
   * channel exists: it gets the listener, which nothing on this path asks it for.
   */
  private static final class SocketLikeConfig extends DefaultChannelConfig {
    private volatile boolean allowHalfClosure;

    SocketLikeConfig(Channel channel) {
      super(channel);
    }

    @Override
    public <T> boolean setOption(ChannelOption<T> option, T value) {
      if (option == ChannelOption.ALLOW_HALF_CLOSURE) {
        allowHalfClosure = (Boolean) value;
        return true;
      }
      return super.setOption(option, value);
    }
  }
}
