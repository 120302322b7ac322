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
import io.netty.util.concurrent.ScheduledFuture;
import io.reuseport.server.NettyFutures;
import io.reuseport.server.RunningServer;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The control socket every server in reuseport mode on epoll listens on (setting {@code controlSocket}): a Unix
 * domain socket, mode 0600, that answers only a peer of this process's own UID (checked with {@code SO_PEERCRED}).
 * A new process that connects gets this server's listening sockets (see {@link ControlProtocol}); once it says it
 * is ready, this server takes its sockets off its loops and closes its own descriptors of them (the sockets live on
 * in the new process), gives up the path, and drains. One peer at a time, a deadline per step
 * ({@value #OFFER_TIMEOUT_MS} ms to ask for the sockets, {@value #READY_TIMEOUT_MS} ms to be ready); a peer that
 * breaks the protocol or leaves is logged once and this server serves on, ready for another takeover.
 */
public final class ControlServer {

  private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);
  /** How long a peer may take to ask for the sockets once it got the offer. */
  static final long OFFER_TIMEOUT_MS = 10_000;
  /** How long a new process may take, once it has the sockets, to start on them and say it is ready. */
  static final long READY_TIMEOUT_MS = 120_000;

  private final Path path;
  private final RunningServer server;
  private final Runnable onHandedOver;
  private final int uid;
  private Channel channel;
  /** The exchange in progress (one at a time), and how many peers were refused meanwhile; control loop only. */
  private Session active;
  private int refusedWhileBusy;
  /** Lines about peers: a flood of connections must not flood the log. */
  private final LogBudget logBudget = new LogBudget(LOG, 10, 10_000);
  /** False once this server hands over or stops: no takeover is offered any more. */
  private volatile boolean offering = true;

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

  /**
   * Stops offering takeovers: stops listening (Netty removes the socket file), then ends an exchange in progress
   * (a new process that got the sockets already serves them; one that did not binds its own). Completes once both
   * are closed; any thread.
   */
  public Future<Void> close() {
    Promise<Void> closed = Promise.promise();
    ControlLoop.group().execute(() -> {
      offering = false;
      Session session = active;
      NettyFutures.close(channel)
          .transform(v -> session == null ? Future.succeededFuture() : session.stop("this server is stopping"))
          .onComplete(v -> closed.complete());
    });
    return closed.future();
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
    private Step step = Step.CONNECTED;
    private int pid;
    private ScheduledFuture<?> deadline;
    private Channel connection;

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      connection = ctx.channel();
      PeerCredentials peer;
      try {
        peer = ((EpollDomainSocketChannel) ctx.channel()).peerCredentials();
      } catch (IOException e) {
        if (logBudget.allow()) {
          LOG.warn("control socket: cannot read the peer's credentials ({}); closing", e.toString());
        }
        end(ctx);
        return;
      }
      pid = peer.pid();
      if (peer.uid() != uid) {
        if (logBudget.allow()) {
          LOG.warn("control socket: refused pid {} of UID {} (only UID {} may take over)", pid, peer.uid(), uid);
        }
        end(ctx);
        return;
      }
      if (!offering) {
        end(ctx);
        return;
      }
      if (active != null) {
        if (refusedWhileBusy++ == 0) {
          LOG.warn("control socket: refused pid {}: pid {} is taking over already (further refusals are counted)",
              pid, active.pid);
        }
        ctx.writeAndFlush(ControlProtocol.line(ControlProtocol.BUSY));
        end(ctx);
        return;
      }
      active = this;
      step = Step.OFFERED;
      if (logBudget.allow()) {
        LOG.info("control socket: pid {} connected to take over", pid);
      }
      List<Integer> tcp = server.tcpListenerFds();
      List<Integer> udp = server.udpSocketFds();
      ctx.writeAndFlush(ControlProtocol.line(new ControlProtocol.Hello(server.port(), tcp.size(), udp.size()).line()));
      limit(ctx, OFFER_TIMEOUT_MS, "no SEND");
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf buf = (ByteBuf) msg;
      try {
        if (step == Step.OFFERED || step == Step.PASSED) {
          lines.feed(buf, line -> onLine(ctx, line));
        }
      } catch (RuntimeException e) {
        refuse(ctx, e.getMessage());
      } finally {
        buf.release();
      }
    }

    private void onLine(ChannelHandlerContext ctx, String line) {
      if (step != Step.OFFERED && step != Step.PASSED) {
        return;
      }
      if (step == Step.OFFERED && ControlProtocol.SEND.equals(line)) {
        // from here on, another process may hold these sockets: they are never changed on the way out
        server.shareSockets();
        List<Integer> all = new ArrayList<>(server.tcpListenerFds());
        all.addAll(server.udpSocketFds());
        for (int fd : all) {
          // a FileDescriptor message is sent with SCM_RIGHTS: the peer gets its own descriptor of the same socket
          ctx.write(new FileDescriptor(fd));
        }
        ctx.flush();
        step = Step.PASSED;
        if (logBudget.allow()) {
          LOG.info("control socket: passed {} sockets to pid {}; waiting up to {} s for it to be ready", all.size(),
              pid, READY_TIMEOUT_MS / 1000);
        }
        limit(ctx, READY_TIMEOUT_MS, "not ready");
      } else if (step == Step.PASSED && ControlProtocol.DRAIN.equals(line)) {
        step = Step.HANDING_OVER;
        deadline.cancel(false);
        LOG.info("control socket: pid {} is ready; handing over and draining", pid);
        // off the loops and our descriptors closed first (the sockets live on in the new process), then give up
        // the path, then say so by closing the connection
        server.handOver()
            .onFailure(err -> LOG.error("hand-over incomplete: {}", err.toString()))
            .transform(v -> close())
            .onComplete(v -> {
              ctx.close();
              onHandedOver.run();
            });
      } else {
        String expected = step == Step.OFFERED ? ControlProtocol.SEND : ControlProtocol.DRAIN;
        throw new IllegalStateException("expected " + expected + ", got '" + ControlProtocol.shown(line) + "'");
      }
    }

    private void limit(ChannelHandlerContext ctx, long ms, String what) {
      if (deadline != null) {
        deadline.cancel(false);
      }
      deadline = ctx.executor().schedule(() -> refuse(ctx, what + " within " + ms / 1000 + " s"), ms,
          TimeUnit.MILLISECONDS);
    }

    /** Ends an exchange that went wrong: one line, and nothing more is read from this peer. */
    private void refuse(ChannelHandlerContext ctx, String reason) {
      if (step != Step.OFFERED && step != Step.PASSED) {
        return;
      }
      Step was = step;
      step = Step.ENDED;
      if (logBudget.allow()) {
        LOG.warn("control socket: takeover by pid {} refused: {}; {}", pid, reason, stillServing(was));
      }
      end(ctx);
    }

    /** The old process stops offering takeovers (it drains): an exchange in progress ends here. */
    Future<Void> stop(String reason) {
      if (step != Step.OFFERED && step != Step.PASSED) {
        return Future.succeededFuture();
      }
      LOG.info("control socket: ending the takeover by pid {}: {}", pid, reason);
      step = Step.ENDED;
      return NettyFutures.close(connection);
    }

    private void end(ChannelHandlerContext ctx) {
      ctx.channel().config().setAutoRead(false);
      ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (deadline != null) {
        deadline.cancel(false);
      }
      if (step == Step.OFFERED || step == Step.PASSED) {
        if (logBudget.allow()) {
          LOG.warn("control socket: takeover by pid {} abandoned: it left before it was ready; {}", pid,
              stillServing(step));
        }
        step = Step.ENDED;
      }
      if (active == this) {
        active = null;
        if (refusedWhileBusy > 1) {
          LOG.warn("control socket: refused {} connections while pid {} was taking over", refusedWhileBusy, pid);
        }
        refusedWhileBusy = 0;
      }
    }

    private String stillServing(Step was) {
      return offering ? "still serving" + (was == Step.PASSED ? " (with the sockets it was passed)" : "")
          + ", ready for another takeover" : "draining";
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (step == Step.OFFERED || step == Step.PASSED) {
        refuse(ctx, cause.toString());
      } else {
        ctx.close();
      }
    }
  }

  private enum Step { CONNECTED, OFFERED, PASSED, HANDING_OVER, ENDED }
}
