package io.reuseport.bench.jmh;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.Socket;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.reuseport.server.ServerHandlers;
import io.reuseport.service.EchoService;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * One accepted connection on real loopback sockets and a real epoll event loop: what Netty's accepted channel costs
 * in Java next to the system calls it cannot do without. Everything runs on the loop's thread, {@value #BATCH}
 * connections per task: a client socket connects, the listener's socket accepts it, and then, by {@code path}:
 *
 * <ul>
 *   <li>{@code sockets}: the accepted descriptor is closed; the kernel's work and the JNI calls only, what the C
 *       server pays (connect, accept, close on both sides);</li>
 *   <li>{@code netty}: Netty's accept path from there on: {@code EpollServerSocketChannel.newChildChannel} builds
 *       the {@code EpollSocketChannel} (its constructor's {@code getsockname} and socket options), the listener's
 *       pipeline gets it, a bare acceptor registers it with epoll with Netty's echo handler, it becomes active (read
 *       interest) and is closed (the {@code SO_LINGER} check, deregistration, close);</li>
 *   <li>{@code server}: the same with this server's listener handlers instead of the bare acceptor (options,
 *       admission, {@code TcpConnectionHandler}, echo service, open set, counters).</li>
 * </ul>
 *
 * The server closes first, as it would on an idle timeout; the client then closes with {@code SO_LINGER} 0 (a
 * reset), so no connection is left in TIME_WAIT. Every descriptor is closed in the same task that opened it.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 10, time = 1)
@Measurement(iterations = 5, time = 1)
public class AcceptedChannelBenchmark {

  /** Connections per task handed to the loop. */
  static final int BATCH = 32;
  /** How often to look at the accept queue for a connection whose handshake is not done yet. */
  private static final int ACCEPT_ATTEMPTS = 100_000;
  /** {@code EpollServerSocketChannel.newChildChannel}: what its accept loop calls for each accepted descriptor. */
  private static final MethodHandle NEW_CHILD_CHANNEL = newChildChannel();

  /** {@code sockets}, {@code netty} or {@code server} (see the class comment). */
  @Param({"sockets", "netty", "server"})
  public String path;

  private EventLoop loop;
  private EpollServerSocketChannel listener;
  private Socket listening;
  private InetSocketAddress address;
  private ServerHandlers server;
  /** Netty's buffer for the accepted peer's address (its length first, then the address). */
  private final byte[] acceptedAddress = new byte[26];

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    // a daemon thread, left running until this fork's JVM exits: ended in the tear-down, it would end before the
    // profiler reads its CPU time for the last iteration
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("bench-loop", true),
        EpollIoHandler.newFactory());
    loop = group.next();
    listener = new EpollServerSocketChannel(SocketProtocolFamily.INET);
    // the accept loop is this benchmark's: epoll never reads the listener
    listener.config().setAutoRead(false);
    server = new ServerHandlers(new EchoService(), true);
    if ("server".equals(path)) {
      listener.pipeline().addLast(server.listenerHandlers(listener));
    } else {
      listener.pipeline().addLast(new BareHandlers.Acceptor());
    }
    loop.register(listener).sync();
    listener.bind(new InetSocketAddress("127.0.0.1", 0)).sync();
    address = listener.localAddress();
    // a second view of the listener's descriptor, owned and closed by the channel
    listening = new Socket(listener.fd().intValue());
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    listener.close().sync();
    if (server.openConnections() != 0 || server.counters().tcpAccepted != server.counters().tcpClosed) {
      throw new IllegalStateException("connections left open: " + server.openConnections());
    }
  }

  /** {@value #BATCH} connections, each connected, accepted and closed. */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public int connections() throws Exception {
    return loop.submit(this::batch).get();
  }

  private int batch() throws Exception {
    int accepted = 0;
    for (int i = 0; i < BATCH; i++) {
      Socket client = Socket.newSocketStream();
      try {
        client.connect(address);
        int fd = accept();
        if ("sockets".equals(path)) {
          new FileDescriptor(fd).close();
        } else {
          Channel connection = newChildChannel(fd);
          listener.pipeline().fireChannelRead(connection);
          connection.close();
        }
        accepted++;
      } finally {
        client.setSoLinger(0);
        client.close();
      }
    }
    if (!"sockets".equals(path)) {
      listener.pipeline().fireChannelReadComplete();
    }
    return accepted;
  }

  private Channel newChildChannel(int fd) throws Exception {
    try {
      return (Channel) NEW_CHILD_CHANNEL.invoke(listener, fd, acceptedAddress, 1, (int) acceptedAddress[0]);
    } catch (Exception | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  /** The next connection of the accept queue; a non-blocking connect on loopback is usually done on return. */
  private int accept() throws IOException {
    for (int attempt = 0; attempt < ACCEPT_ATTEMPTS; attempt++) {
      int fd = listening.accept(acceptedAddress);
      if (fd >= 0) {
        return fd;
      }
      Thread.onSpinWait();
    }
    throw new IOException("nothing to accept on " + address);
  }

  private static MethodHandle newChildChannel() {
    try {
      Method method = EpollServerSocketChannel.class.getDeclaredMethod("newChildChannel", int.class, byte[].class,
          int.class, int.class);
      method.setAccessible(true);
      return MethodHandles.lookup().unreflect(method);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }
}
