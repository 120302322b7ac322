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
import io.reuseport.app.RunningServer;
import io.reuseport.netty.NettyFutures;
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
  private ControlSession active;
  private int refusedWhileBusy;
  /** Lines about peers: a flood of connections must not flood the log. */
  private final LogBudget logBudget = new LogBudget(LOG, 20, 10_000);
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
      ControlSession session = active;
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
            ch.pipeline().addLast(new ControlSession(ControlServer.this));
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

  RunningServer server() {
    return server;
  }

  int uid() {
    return uid;
  }

  LogBudget logBudget() {
    return logBudget;
  }

  boolean offering() {
    return offering;
  }

  /**
   * Lets {@code session} be the one exchange in progress; false (and the first refusal logged, the others counted)
   * while another one is.
   */
  boolean admit(ControlSession session) {
    if (active != null) {
      if (refusedWhileBusy++ == 0) {
        LOG.warn("control socket: refused pid {}: pid {} is taking over already (further refusals are counted)",
            session.pid(), active.pid());
      }
      return false;
    }
    active = session;
    return true;
  }

  /** The exchange of {@code session} ended, whatever its outcome. */
  void ended(ControlSession session) {
    if (active == session) {
      active = null;
      if (refusedWhileBusy > 1) {
        LOG.warn("control socket: refused {} connections while pid {} was taking over", refusedWhileBusy,
            session.pid());
      }
      refusedWhileBusy = 0;
    }
  }

  /**
   * The new process is ready: this server hands its sockets over, stops offering, and then, once the path is given
   * up, the caller's {@code onHandedOver} runs.
   */
  Future<Void> handOver() {
    return server.handOver()
        .onFailure(err -> LOG.error("hand-over incomplete: {}", err.toString()))
        .transform(v -> close());
  }

  void handedOver() {
    onHandedOver.run();
  }
}
