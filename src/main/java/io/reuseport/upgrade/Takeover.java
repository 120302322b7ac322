package io.reuseport.upgrade;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.DomainSocketReadMode;
import io.netty.channel.unix.FileDescriptor;
import io.reuseport.netty.NettyFutures;
import io.reuseport.server.InheritedSockets;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The new process's side of a takeover ({@code --takeover PATH}): connects to the running server's control socket,
 * receives its listening TCP and UDP sockets ({@link #received()}), and, once this process serves them and is
 * ready, tells the old one to drain ({@link #sendDrain()}). See {@link ControlProtocol}.
 */
public final class Takeover {

  private static final Logger LOG = LoggerFactory.getLogger(Takeover.class);

  private final Path path;
  private final Promise<InheritedSockets> received = Promise.promise();
  private final Promise<Void> closed = Promise.promise();
  private volatile Channel channel;
  private volatile int announcedPort = -1;
  private volatile boolean drainSent;
  /** Descriptors received so far; only touched on the control loop. */
  private final List<Integer> fds = new ArrayList<>();

  /**
   * The old process is not there, or left before passing its sockets: nothing serves them but this process could.
   */
  public static final class OldProcessGone extends IllegalStateException {
    private final int port;

    OldProcessGone(String message, int port) {
      super(message);
      this.port = port;
    }

    /** The port the old process announced before it left, or -1. */
    public int port() {
      return port;
    }
  }

  private Takeover(Path path) {
    this.path = path;
  }

  /**
   * Connects to {@code path} and starts receiving the sockets; {@link #received()} fails after {@code timeoutMs},
   * with {@link OldProcessGone} when no process answers there or it leaves before passing them.
   */
  public static Takeover begin(Path path, long timeoutMs) {
    Takeover takeover = new Takeover(path);
    Bootstrap bootstrap = new Bootstrap()
        .group(ControlLoop.group())
        .channel(EpollDomainSocketChannel.class)
        .handler(takeover.new Receiver());
    ControlLoop.group().next().schedule(() -> takeover.fail(new IllegalStateException(
        "no sockets received from " + path + " within " + timeoutMs + " ms")), timeoutMs, TimeUnit.MILLISECONDS);
    NettyFutures.channel(bootstrap.connect(new DomainSocketAddress(path.toFile())))
        .onSuccess(ch -> takeover.channel = ch)
        .onFailure(err -> takeover.fail(new OldProcessGone("cannot connect to control socket " + path + ": "
            + err.getMessage(), -1)));
    return takeover;
  }

  /** The sockets, as descriptors of this process. */
  public Future<InheritedSockets> received() {
    return received.future();
  }

  /** Whether the old process closed the control connection before this one told it to drain. */
  public boolean oldLeft() {
    return closed.future().isComplete() && !drainSent;
  }

  /**
   * Tells the old process that this one is ready (the point of no return: it takes its sockets off its loops, closes
   * its descriptors, gives up the control socket path and drains). Never blocks.
   */
  public void sendDrain() {
    drainSent = true;
    Channel ch = channel;
    if (ch != null) {
      ch.writeAndFlush(ControlProtocol.line(ControlProtocol.DRAIN));
    }
  }

  /**
   * Completes once the old process confirmed the hand-over by closing the control connection (it has then closed
   * its descriptors and given up the path); fails after {@code timeoutMs}.
   */
  public Future<Void> released(long timeoutMs) {
    Promise<Void> confirmed = Promise.promise();
    ControlLoop.group().schedule(() -> confirmed.tryFail(new IllegalStateException(
        "the old process did not confirm the hand-over within " + timeoutMs + " ms")), timeoutMs,
        TimeUnit.MILLISECONDS);
    closed.future().onComplete(v -> confirmed.tryComplete());
    return confirmed.future();
  }

  /** Gives the takeover up: closes the control connection without telling the old process to drain. */
  public void abort() {
    ControlLoop.group().execute(() -> fail(new IllegalStateException("takeover aborted")));
    Channel ch = channel;
    if (ch != null) {
      ch.close();
    }
  }

  /** Closes the descriptors received, for a takeover given up before a server was started on them. */
  public void discardReceived() {
    ControlLoop.group().execute(() -> discard(fds));
  }

  public Path path() {
    return path;
  }

  /** On the control loop. */
  private void fail(Throwable cause) {
    if (received.tryFail(cause)) {
      discard(fds);
      if (channel != null) {
        channel.close();
      }
    }
  }

  /**
   * Closes descriptors received for a takeover that did not complete: a listener that this process holds but
   * does not serve would queue connections that nobody accepts.
   */
  private static void discard(List<Integer> fds) {
    for (int fd : fds) {
      try {
        new FileDescriptor(fd).close();
      } catch (java.io.IOException e) {
        LOG.debug("closing received descriptor {}: {}", fd, e.toString());
      }
    }
    fds.clear();
  }

  /** Reads the offer in bytes, then the descriptors, then waits for the old side to close. */
  private final class Receiver extends ChannelInboundHandlerAdapter {
    private final ControlProtocol.Lines lines = new ControlProtocol.Lines();
    private ControlProtocol.Hello hello;

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      channel = ctx.channel();
      ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof FileDescriptor) {
        onDescriptor(ctx, (FileDescriptor) msg);
        return;
      }
      ByteBuf buf = (ByteBuf) msg;
      try {
        lines.feed(buf, line -> onLine(ctx, line));
      } catch (RuntimeException e) {
        fail(e);
      } finally {
        buf.release();
      }
    }

    private void onLine(ChannelHandlerContext ctx, String line) {
      if (hello != null) {
        throw new IllegalStateException("unexpected control line '" + ControlProtocol.shown(line) + "'");
      }
      if (ControlProtocol.BUSY.equals(line)) {
        throw new IllegalStateException("the server on " + path + " is handing over to another process already");
      }
      hello = ControlProtocol.Hello.parse(line);
      announcedPort = hello.port();
      LOG.info("taking over port {} from {}: {} TCP listeners, {} UDP sockets", hello.port(), path, hello.tcp(),
          hello.udp());
      // descriptors only from here on; the old side sends them only after SEND, so none can arrive as bytes
      ctx.channel().config().setOption(EpollChannelOption.DOMAIN_SOCKET_READ_MODE,
          DomainSocketReadMode.FILE_DESCRIPTORS);
      ctx.writeAndFlush(ControlProtocol.line(ControlProtocol.SEND));
    }

    private void onDescriptor(ChannelHandlerContext ctx, FileDescriptor fd) {
      if (received.future().isComplete()) {
        // failed (deadline, abort) or complete already: a descriptor nobody asked for is not kept
        discard(new ArrayList<>(List.of(fd.intValue())));
        return;
      }
      fds.add(fd.intValue());
      if (fds.size() == hello.tcp() + hello.udp()) {
        ctx.channel().config().setOption(EpollChannelOption.DOMAIN_SOCKET_READ_MODE, DomainSocketReadMode.BYTES);
        LOG.info("received {} sockets from {}", fds.size(), path);
        received.tryComplete(new InheritedSockets(hello.port(), fds.subList(0, hello.tcp()),
            fds.subList(hello.tcp(), fds.size())));
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (received.tryFail(new OldProcessGone("control socket " + path + " closed before passing the sockets"
          + (fds.isEmpty() ? "" : " (" + fds.size() + " of " + (hello.tcp() + hello.udp()) + " received)"),
          announcedPort))) {
        discard(fds);
      }
      closed.tryComplete();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      fail(cause);
      ctx.close();
    }
  }
}
