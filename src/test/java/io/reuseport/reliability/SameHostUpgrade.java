package io.reuseport.reliability;

import io.reuseport.testsupport.ChildServer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The old and the new server process of one same-host upgrade on loopback port {@value #PORT}, as the upgrade
 * scenarios ({@link UpgradeScenario}, {@link HttpUpgradeScenario}) run them. Mode {@code plain}: the new process
 * binds the port beside the old one, which is then sent SIGTERM. Mode {@code takeover}: the old process listens on a
 * control socket, the new one starts with {@code --takeover} on it, and the hand-over ends the old one by itself.
 * Both processes get the same arguments besides those, and the old one its own extras (e.g. a drain timeout).
 */
final class SameHostUpgrade {

  static final int PORT = 9000;
  private static final int WAIT_SECONDS = 60;

  private final boolean takeover;
  private final Path dir;
  private final List<String> oldArgs;
  private final List<String> newArgs;

  /**
   * @param mode {@code takeover}, or anything else for {@code plain}
   * @param dir the processes' working directory, where the control socket goes
   */
  SameHostUpgrade(String mode, Path dir, List<String> common, List<String> oldOnly) {
    this.takeover = mode.equals("takeover");
    this.dir = dir;
    Path control = dir.resolve("control.sock");
    oldArgs = new ArrayList<>(common);
    oldArgs.addAll(List.of("--port", Integer.toString(PORT)));
    oldArgs.addAll(oldOnly);
    newArgs = new ArrayList<>(common);
    if (takeover) {
      oldArgs.addAll(List.of("--control-socket", control.toString()));
      newArgs.addAll(List.of("--takeover", control.toString()));
    } else {
      newArgs.addAll(List.of("--port", Integer.toString(PORT)));
    }
  }

  boolean takeover() {
    return takeover;
  }

  /** Starts the old process and waits until it is ready (60 s at most); the caller closes it. */
  ChildServer startOld() throws IOException, InterruptedException {
    return startReady(oldArgs);
  }

  /** Starts the new process and waits until it is ready (60 s at most); the caller closes it. */
  ChildServer startNew() throws IOException, InterruptedException {
    return startReady(newArgs);
  }

  /**
   * Once the new process is ready, makes the old one go (SIGTERM for {@code plain}; for {@code takeover} the hand-over
   * already ends it) and waits for its exit (60 s at most).
   *
   * @return the old process's exit code
   */
  int retire(ChildServer old) throws InterruptedException {
    if (!takeover) {
      old.terminate();
    }
    return old.awaitExit(WAIT_SECONDS);
  }

  /** The network namespace's {@code net.ipv4.tcp_migrate_req}, as the scenario's result records it. */
  static String tcpMigrateReq() throws IOException {
    return Files.readString(Path.of("/proc/sys/net/ipv4/tcp_migrate_req")).trim();
  }

  private ChildServer startReady(List<String> args) throws IOException, InterruptedException {
    ChildServer server = ChildServer.start(dir, Map.of(), args.toArray(String[]::new));
    try {
      server.awaitReadyPort(WAIT_SECONDS);
      return server;
    } catch (RuntimeException | Error | InterruptedException e) {
      server.close();
      throw e;
    }
  }
}
