package io.reuseport.upgrade;

import io.reuseport.app.ReusePortServer;
import io.reuseport.app.RunningServer;
import io.reuseport.app.ServerState;
import io.reuseport.config.ServerConfig;
import io.reuseport.server.InheritedSockets;
import io.reuseport.server.StartupException;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A zero-loss upgrade on one host, from the new process's side: receive the running server's sockets, serve them,
 * become ready, then let the old server drain. No listener is closed at any point, so no queued connection is reset
 * and no queued datagram is dropped, whatever {@code net.ipv4.tcp_migrate_req} says.
 *
 * <p>Telling the old process to drain is the point of no return. A stop asked for before it (a signal) aborts the
 * takeover: the old process is never told to drain and keeps serving, and this one drains what it accepted. A stop
 * after it is an ordinary stop of this server, which is then the one serving the port.
 */
public final class Upgrade {

  private static final Logger LOG = LoggerFactory.getLogger(Upgrade.class);
  private static final long RECEIVE_TIMEOUT_MS = 10_000;
  private static final long RELEASE_TIMEOUT_MS = 10_000;
  private static final long POLL_MS = 20;

  /** A stop was asked for before the takeover got far enough to start a server: nothing to drain. */
  public static final class StoppedBeforeStart extends RuntimeException {
    StoppedBeforeStart() {
      super("stopped before start-up completed", null, false, false);
    }
  }

  private Upgrade() {
  }

  /**
   * Takes the sockets of the server listening on control socket {@code path} and starts this server on them.
   * Blocking: call it from {@code main}, not from an event loop. If this start fails, the old server keeps serving.
   * When no server answers on {@code path}, or it leaves before passing its sockets, this one binds sockets of its
   * own on the port (the one announced, or {@code config.port()}) rather than exit.
   *
   * @param state where a stop asked for by a signal shows, checked at every step
   * @throws StartupException when the old server refused the takeover or this server could not start
   * @throws StoppedBeforeStart when a stop was asked for before the sockets were received
   */
  public static RunningServer takeOver(Path path, ServerConfig config, ServerState state) {
    Takeover takeover = Takeover.begin(path, RECEIVE_TIMEOUT_MS);
    InheritedSockets sockets;
    try {
      sockets = awaitUnlessStopped(takeover.received(), state, takeover);
    } catch (Takeover.OldProcessGone e) {
      int port = e.port() >= 0 ? e.port() : config.port();
      LOG.warn("takeover from {} cannot complete ({}): binding sockets of its own on port {}", path,
          e.getMessage(), port);
      return ReusePortServer.start(config.withPort(port), InheritedSockets.none(), state).await();
    } catch (StoppedBeforeStart e) {
      throw e;
    } catch (RuntimeException e) {
      throw new StartupException("--takeover " + path + ": " + e.getMessage(), e);
    }
    if (state.stopRequested()) {
      takeover.abort();
      takeover.discardReceived();
      throw new StoppedBeforeStart();
    }
    if (config.instances() != sockets.tcpFds().size()) {
      LOG.info("{} instances serve {} received TCP listeners and {} UDP sockets; none is closed",
          config.instances(), sockets.tcpFds().size(), sockets.udpFds().size());
    }
    RunningServer server;
    try {
      server = ReusePortServer.start(config.withPort(sockets.port()), sockets, state).await();
    } catch (RuntimeException e) {
      takeover.abort();
      throw e;
    }
    // both processes hold these sockets until the old one confirms it closed its descriptors
    server.shareSockets();
    if (takeover.oldLeft()) {
      LOG.warn("the old process left before the hand-over; this one serves the sockets it passed");
      return server;
    }
    if (!state.whileReady(takeover::sendDrain)) {
      LOG.warn("takeover aborted: a stop was asked for before this process told the old one to drain; the old"
          + " process keeps serving");
      takeover.abort();
      return server;
    }
    try {
      takeover.released(RELEASE_TIMEOUT_MS).await(RELEASE_TIMEOUT_MS + 1_000, TimeUnit.MILLISECONDS);
      server.ownSockets();
      LOG.info("took over port {}; the old process drains", server.port());
    } catch (Exception e) {
      // both processes serve the same sockets: nothing is lost, the old one just does not leave by itself
      LOG.warn("the old process did not confirm the hand-over ({}); it still serves the port with this one",
          e.getMessage());
    }
    return server;
  }

  private static <T> T awaitUnlessStopped(Future<T> future, ServerState state, Takeover takeover) {
    while (!future.isComplete()) {
      if (state.stopRequested()) {
        takeover.abort();
        throw new StoppedBeforeStart();
      }
      try {
        Thread.sleep(POLL_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        takeover.abort();
        throw new StoppedBeforeStart();
      }
    }
    if (future.failed()) {
      Throwable cause = future.cause();
      throw cause instanceof RuntimeException ? (RuntimeException) cause : new IllegalStateException(cause);
    }
    return future.result();
  }
}
