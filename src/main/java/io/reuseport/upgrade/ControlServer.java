package io.reuseport.upgrade;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.PeerCredentials;
import io.reuseport.server.NettyFutures;
import io.reuseport.server.RunningServer;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * The control socket every server in reuseport mode on epoll listens on (setting {@code controlSocket}): a Unix
 * domain socket, mode 0600, that answers only a peer of this process's own UID (checked with {@code SO_PEERCRED}).
 * A new process that connects gets this server's listening sockets (see {@link ControlProtocol}); once it says it
 * is ready, this server takes its sockets off its loops without closing them, gives up the path, and drains.
 */
public final class ControlServer {

  private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);

  private final Path path;
  private final RunningServer server;
  private final Runnable onHandedOver;
  private final int uid;
  private Channel channel;

  private ControlServer(Path path, RunningServer server, Runnable onHandedOver) {
    this.path = path;
    this.server = server;
    this.onHandedOver = onHandedOver;
    this.uid = ControlLoop.ownUid();
  }

  /**
   * Listens on {@code path}. A socket file left by a process that is gone is replaced; a path another running
   * server answers on is refused (start with {@code --takeover PATH} to replace that server).
   *
   * @param onHandedOver called once the sockets are handed over and the path given up: the caller drains and exits
   */
  public static Future<ControlServer> start(Path path, RunningServer server, Runnable onHandedOver) {
    ControlServer control = new ControlServer(path, server, onHandedOver);
    return control.clearStale().compose(v -> control.bind());
  }

  public Path path() {
    return path;
  }

  /** Stops listening and removes the socket file. */
  public Future<Void> close() {
    return channel == null ? Future.succeededFuture() : NettyFutures.of(channel.close());
  }

  private Future<Void> clearStale() {
    if (!Files.exists(path)) {
      return Future.succeededFuture();
    }
    return NettyFutures.channel(new Bootstrap().group(ControlLoop.group()).channel(EpollDomainSocketChannel.class)
            .handler(new ChannelInboundHandlerAdapter())
            .connect(new DomainSocketAddress(path.toFile())))
        .transform(connected -> {
          if (connected.succeeded()) {
            connected.result().close();
            return Future.failedFuture(new IllegalStateException("control socket " + path
                + " is served by a running server; start with --takeover " + path + " to replace it"));
          }
          try {
            Files.deleteIfExists(path);
            LOG.info("removed stale control socket {}", path);
            return Future.succeededFuture();
          } catch (IOException e) {
            return Future.failedFuture(e);
          }
        });
  }

  private Future<ControlServer> bind() {
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(ControlLoop.group())
        .channel(EpollServerDomainSocketChannel.class)
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast(new Session());
          }
        });
    return NettyFutures.channel(bootstrap.bind(new DomainSocketAddress(path.toFile())))
        .compose(bound -> {
          channel = bound;
          try {
            // bind() created it with the umask's mode; the UID check below guards the moment in between
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
          } catch (IOException e) {
            bound.close();
            return Future.failedFuture(e);
          }
          LOG.info("control socket {} (mode 0600, UID {} only): a new process takes over with --takeover {}", path,
              uid, path);
          return Future.succeededFuture(this);
        });
  }

  /** One connection on the control socket: a new process taking this one's sockets over. */
  private final class Session extends ChannelInboundHandlerAdapter {
    private final ControlProtocol.Lines lines = new ControlProtocol.Lines();
    private boolean handingOver;

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      PeerCredentials peer;
      try {
        peer = ((EpollDomainSocketChannel) ctx.channel()).peerCredentials();
      } catch (IOException e) {
        LOG.warn("control socket: cannot read the peer's credentials ({}); closing", e.toString());
        ctx.close();
        return;
      }
      if (peer.uid() != uid) {
        LOG.warn("control socket: refused pid {} of UID {} (only UID {} may take over)", peer.pid(), peer.uid(),
            uid);
        ctx.close();
        return;
      }
      LOG.info("control socket: pid {} connected to take over", peer.pid());
      List<Integer> tcp = server.tcpListenerFds();
      List<Integer> udp = server.udpSocketFds();
      ctx.writeAndFlush(ControlProtocol.line(new ControlProtocol.Hello(server.port(), tcp.size(), udp.size()).line()));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf buf = (ByteBuf) msg;
      try {
        lines.feed(buf, line -> onLine(ctx, line));
      } catch (RuntimeException e) {
        LOG.warn("control socket: {}; closing", e.getMessage());
        ctx.close();
      } finally {
        buf.release();
      }
    }

    private void onLine(ChannelHandlerContext ctx, String line) {
      if (ControlProtocol.SEND.equals(line)) {
        List<Integer> all = new ArrayList<>(server.tcpListenerFds());
        all.addAll(server.udpSocketFds());
        for (int fd : all) {
          // a FileDescriptor message is sent with SCM_RIGHTS: the peer gets its own descriptor of the same socket
          ctx.write(new FileDescriptor(fd));
        }
        ctx.flush();
        LOG.info("control socket: passed {} sockets; waiting for the new process to be ready", all.size());
      } else if (ControlProtocol.DRAIN.equals(line) && !handingOver) {
        handingOver = true;
        LOG.info("control socket: the new process is ready; handing over and draining");
        // off the loops first (never closed: queued connections stay queued), then give up the path, then say so
        server.handOver()
            .onFailure(err -> LOG.error("hand-over incomplete: {}", err.toString()))
            .transform(v -> close())
            .onComplete(v -> {
              ctx.close();
              onHandedOver.run();
            });
      } else {
        throw new IllegalStateException("unexpected control line '" + line + "'");
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (!handingOver) {
        LOG.debug("control socket: peer left before DRAIN; still serving");
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.warn("control socket: {}", cause.toString());
      ctx.close();
    }
  }
}
