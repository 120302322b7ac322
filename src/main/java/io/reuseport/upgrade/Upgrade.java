package io.reuseport.upgrade;

import io.reuseport.config.ServerConfig;
import io.reuseport.server.InheritedSockets;
import io.reuseport.server.RunningServer;
import io.reuseport.server.ServerLauncher;
import io.reuseport.server.StartupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A zero-loss upgrade on one host, from the new process's side: receive the running server's sockets, serve them,
 * become ready, then let the old server drain. No listener is closed at any point, so no queued connection is reset
 * and no queued datagram is dropped, whatever {@code net.ipv4.tcp_migrate_req} says.
 */
public final class Upgrade {

  private static final Logger LOG = LoggerFactory.getLogger(Upgrade.class);
  private static final long RECEIVE_TIMEOUT_MS = 10_000;
  private static final long RELEASE_TIMEOUT_MS = 10_000;

  private Upgrade() {
  }

  /**
   * Takes the sockets of the server listening on control socket {@code path} and starts this server on them.
   * Blocking: call it from {@code main}, not from an event loop. If this start fails, the old server keeps serving.
   *
   * @throws StartupException when no sockets could be received or the server could not start on them
   */
  public static RunningServer takeOver(Path path, ServerConfig config) {
    Takeover takeover;
    try {
      takeover = Takeover.connect(path, RECEIVE_TIMEOUT_MS).await(RECEIVE_TIMEOUT_MS + 1_000, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new StartupException("--takeover " + path + ": " + e.getMessage(), e);
    }
    InheritedSockets sockets = takeover.sockets();
    if (config.instances() != sockets.tcpFds().size()) {
      LOG.info("{} instances serve {} received TCP listeners and {} UDP sockets; none is closed",
          config.instances(), sockets.tcpFds().size(), sockets.udpFds().size());
    }
    RunningServer server = ServerLauncher.start(config.withPort(sockets.port()), sockets).await();
    try {
      takeover.release(RELEASE_TIMEOUT_MS).await(RELEASE_TIMEOUT_MS + 1_000, TimeUnit.MILLISECONDS);
      LOG.info("took over port {}; the old process drains", server.port());
    } catch (Exception e) {
      // both processes serve the same sockets: nothing is lost, the old one just does not leave by itself
      LOG.warn("the old process did not confirm the hand-over ({}); it still serves the port with this one",
          e.getMessage());
    }
    return server;
  }
}
