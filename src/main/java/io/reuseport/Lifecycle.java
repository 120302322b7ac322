package io.reuseport;

import io.reuseport.app.RunningServer;
import io.reuseport.app.ServerState;
import io.reuseport.config.ServerConfig;
import io.reuseport.upgrade.ControlServer;
import io.reuseport.upgrade.Upgrade;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What a stop does to this process: readiness down for good, the control socket closed (no more takeovers offered,
 * its file removed), then the server drained once start-up completed; or, forced, every connection closed now.
 */
final class Lifecycle implements ShutdownSignals.Stopper {

  private static final Logger LOG = LoggerFactory.getLogger(Lifecycle.class);
  /** How long a stop asked for during start-up waits for the start-up to complete before it gives up. */
  private static final long START_WAIT_SECONDS = 60;

  final CompletableFuture<RunningServer> started = new CompletableFuture<>();
  private final ServerConfig config;
  private final ServerState state;
  private final AtomicReference<ControlServer> control = new AtomicReference<>();

  Lifecycle(ServerConfig config, ServerState state) {
    this.config = config;
    this.state = state;
  }

  /** The control socket is up; a stop asked for meanwhile closes it at once. */
  void controlSocket(ControlServer server) {
    control.set(server);
    if (state.stopRequested()) {
      server.close();
    }
  }

  @Override
  public int drain(String reason) {
    // first of all: readiness down for good, and no more takeovers offered
    state.requestStop();
    closeControlSocket();
    LOG.info("{} received: draining for up to {} s", reason, config.drainTimeoutSeconds());
    try {
      RunningServer server;
      try {
        server = started.get(START_WAIT_SECONDS, TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        LOG.error("start-up did not complete within {} s of the stop: exiting", START_WAIT_SECONDS);
        return Main.EXIT_START_FAILED;
      }
      server.stop().await(config.drainTimeoutSeconds() + 10L, TimeUnit.SECONDS);
      LOG.info("stopped");
      return 0;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Upgrade.StoppedBeforeStart) {
        LOG.info("stopped before start-up completed");
        return 0;
      }
      return Main.EXIT_START_FAILED;
    } catch (CancellationException e) {
      return Main.EXIT_START_FAILED;
    } catch (Exception e) {
      LOG.error("drain did not complete: {}", e.toString());
      return Main.EXIT_START_FAILED;
    }
  }

  @Override
  public void force() {
    closeControlSocket();
    RunningServer server = started.getNow(null);
    if (server != null) {
      server.forceStop();
    }
  }

  private void closeControlSocket() {
    ControlServer server = control.get();
    if (server != null) {
      server.close();
    }
  }
}
