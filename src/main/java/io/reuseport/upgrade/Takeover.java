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
import io.reuseport.server.InheritedSockets;
import io.reuseport.server.NettyFutures;
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
 * receives its listening TCP and UDP sockets, and, once this process serves them and is ready, tells the old one
 * to drain ({@link #release()}). See {@link ControlProtocol}.
 */
public final class Takeover {

  private static final Logger LOG = LoggerFactory.getLogger(Takeover.class);

  private final Path path;
  private final Promise<InheritedSockets> received = Promise.promise();
  private final Promise<Void> released = Promise.promise();
  private Channel channel;

  private Takeover(Path path) {
    this.path = path;
  }

  /**
   * Connects to {@code path} and receives the sockets; fails after {@code timeoutMs}.
   */
  public static Future<Takeover> connect(Path path, long timeoutMs) {
    Takeover takeover = new Takeover(path);
    Bootstrap bootstrap = new Bootstrap()
        .group(ControlLoop.group())
        .channel(EpollDomainSocketChannel.class)
        .handler(takeover.new Receiver());
    ControlLoop.group().schedule(() -> takeover.received.tryFail(new IllegalStateException(
        "no sockets received from " + path + " within " + timeoutMs + " ms")), timeoutMs, TimeUnit.MILLISECONDS);
    return NettyFutures.channel(bootstrap.connect(new DomainSocketAddress(path.toFile())))
        .recover(err -> Future.failedFuture(new IllegalStateException("cannot connect to control socket " + path
            + ": " + err.getMessage(), err)))
        .compose(ch -> {
          takeover.channel = ch;
          return takeover.received.future();
        })
        .onFailure(err -> {
          if (takeover.channel != null) {
            takeover.channel.close();
          }
        })
        .map(sockets -> takeover);
  }

  /** The sockets received, as descriptors of this process. */
  public InheritedSockets sockets() {
    return received.future().result();
  }

  /**
   * Tells the old process that this one is ready: it takes its sockets off its loops, gives up the control socket
   * path and drains. Completes when it has closed the control connection (so the path is free), or after
   * {@code timeoutMs}.
   */
  public Future<Void> release(long timeoutMs) {
    ControlLoop.group().schedule(() -> released.tryFail(new IllegalStateException(
        "the old process did not confirm the hand-over within " + timeoutMs + " ms")), timeoutMs,
        TimeUnit.MILLISECONDS);
    channel.writeAndFlush(ControlProtocol.line(ControlProtocol.DRAIN));
    return released.future();
  }

  public Path path() {
    return path;
  }

  /** Reads the offer in bytes, then the descriptors, then waits for the old side to close. */
  private final class Receiver extends ChannelInboundHandlerAdapter {
    private final ControlProtocol.Lines lines = new ControlProtocol.Lines();
    private ControlProtocol.Hello hello;
    private final List<Integer> fds = new ArrayList<>();

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
        received.tryFail(e);
        ctx.close();
      } finally {
        buf.release();
      }
    }

    private void onLine(ChannelHandlerContext ctx, String line) {
      if (hello != null) {
        throw new IllegalStateException("unexpected control line '" + line + "'");
      }
      hello = ControlProtocol.Hello.parse(line);
      LOG.info("taking over port {} from {}: {} TCP listeners, {} UDP sockets", hello.port(), path, hello.tcp(),
          hello.udp());
      // descriptors only from here on; the old side sends them only after SEND, so none can arrive as bytes
      ctx.channel().config().setOption(EpollChannelOption.DOMAIN_SOCKET_READ_MODE,
          DomainSocketReadMode.FILE_DESCRIPTORS);
      ctx.writeAndFlush(ControlProtocol.line(ControlProtocol.SEND));
    }

    private void onDescriptor(ChannelHandlerContext ctx, FileDescriptor fd) {
      fds.add(fd.intValue());
      if (fds.size() == hello.tcp() + hello.udp()) {
        ctx.channel().config().setOption(EpollChannelOption.DOMAIN_SOCKET_READ_MODE, DomainSocketReadMode.BYTES);
        received.tryComplete(new InheritedSockets(hello.port(), fds.subList(0, hello.tcp()),
            fds.subList(hello.tcp(), fds.size())));
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      received.tryFail(new IllegalStateException("control socket " + path + " closed before passing the sockets"));
      released.tryComplete();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      received.tryFail(cause);
      ctx.close();
    }
  }
}
