package io.reuseport.reliability;

import io.reuseport.testsupport.ChildServer;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * A same-host upgrade whose old process leaves with connections queued on its listeners, made deterministic; run in
 * its own network namespace by {@link UpgradeScenarioTest} (or by hand). The old server process (2 instances) serves
 * port 9000 and is stopped (SIGSTOP): its loops accept nothing more. {@value #QUEUED} clients connect: the kernel
 * completes each handshake and queues the connection on one of the old listeners. The new process starts on the
 * same port and becomes ready; then the old one is killed (SIGKILL), so the kernel closes its listeners with those
 * connections still queued, as a {@code close()} of a busy listener does. Each client then sends 16 bytes and waits
 * for their echo: answered (the connection migrated to a new listener), reset, or no answer. Prints one
 * {@code RESULT {json}} line.
 *
 * <p>Usage: {@code QueuedCloseScenario kernel|bpf|auto} (steering of both processes). With
 * {@code net.ipv4.tcp_migrate_req=0}, only the new process's selector loaded as {@code SELECT_OR_MIGRATE} saves the
 * queued connections. It uses loopback port 9000: run it in a private network namespace ({@code unshare -n}).
 */
public final class QueuedCloseScenario {

  static final int QUEUED = 100;
  private static final int PORT = 9000;
  private static final int PAYLOAD = 16;
  /** Long enough for a loaded machine; a migrated connection is answered at the new process's next accept pass. */
  private static final int ANSWER_TIMEOUT_MS = 10_000;

  private QueuedCloseScenario() {
  }

  public static void main(String[] args) throws Exception {
    String steering = args.length > 0 ? args[0] : "kernel";
    Path dir = Files.createTempDirectory("queued-close");
    List<String> common = List.of("--host", "127.0.0.1", "--port", Integer.toString(PORT), "--admin-port", "0",
        "--instances", "2", "--drain-timeout-seconds", "5", "--steering", steering);
    JsonObject result = new JsonObject().put("scenario", "old process closes with connections queued")
        .put("steering", steering).put("queued", QUEUED)
        .put("tcpMigrateReq", Files.readString(Path.of("/proc/sys/net/ipv4/tcp_migrate_req")).trim());
    List<Socket> clients = new ArrayList<>();
    try (ChildServer old = ChildServer.start(dir, Map.of(), common.toArray(String[]::new))) {
      old.awaitReadyPort(60);
      old.signal("STOP");
      for (int i = 0; i < QUEUED; i++) {
        Socket s = new Socket();
        clients.add(s);
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), PORT), 5_000);
      }
      try (ChildServer upgraded = ChildServer.start(dir, Map.of(), common.toArray(String[]::new))) {
        upgraded.awaitReadyPort(60);
        old.signal("KILL");
        result.put("oldExitCode", old.awaitExit(30));
        Map<String, Integer> outcomes = new TreeMap<>();
        for (Socket s : clients) {
          send(s, outcomes);
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ANSWER_TIMEOUT_MS);
        for (Socket s : clients) {
          if (!s.isClosed()) {
            outcomes.merge(awaitEcho(s, deadline), 1, Integer::sum);
          }
        }
        result.put("answered", outcomes.getOrDefault("answered", 0)).put("outcomes", new JsonObject(
            new TreeMap<String, Object>(outcomes)));
        result.put("newProcessSteering", upgraded.output().stream().filter(l -> l.contains("steering"))
            .toList());
        upgraded.terminate();
        result.put("newExitCode", upgraded.awaitExit(60));
      }
    } finally {
      for (Socket s : clients) {
        s.close();
      }
    }
    System.out.println("RESULT " + result.encode());
  }

  /** Sends 16 bytes on a queued connection; a failure is its outcome (and the socket is closed). */
  private static void send(Socket s, Map<String, Integer> outcomes) {
    try {
      s.getOutputStream().write(new byte[PAYLOAD]);
    } catch (IOException e) {
      outcomes.merge(e.getClass().getSimpleName() + ": " + e.getMessage(), 1, Integer::sum);
      try {
        s.close();
      } catch (IOException ignored) {
        // closed either way
      }
    }
  }

  /** Reads the echo until the common deadline: "answered", or what went wrong. */
  private static String awaitEcho(Socket s, long deadline) {
    byte[] in = new byte[PAYLOAD];
    try {
      InputStream stream = s.getInputStream();
      int got = 0;
      while (got < PAYLOAD) {
        s.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        int n = stream.read(in, got, PAYLOAD - got);
        if (n < 0) {
          return "EOF after " + got + " bytes";
        }
        got += n;
      }
      return "answered";
    } catch (IOException e) {
      return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
  }
}
