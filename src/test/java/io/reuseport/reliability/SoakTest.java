package io.reuseport.reliability;

import io.reuseport.testsupport.ChildServer;
import io.reuseport.testsupport.Clients;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

// Blocking by design: a child JVM under a bounded load, sampled from outside; the test waits on the samples.
/**
 * A bounded mixed soak against the real server in a child JVM: TCP churn, persistent TCP echo and UDP ping-pong at
 * once, with the server's heap after GC, resident memory and open descriptors sampled. Off by default (it takes
 * minutes): {@code mvn -Dtest=SoakTest -Dsoak.seconds=300 test}. Samples go to {@code target/reliability/soak.json}.
 */
class SoakTest {

  private static final int PERSISTENT = 16;

  @TempDir
  Path dir;

  @Test
  @Timeout(value = 1, unit = TimeUnit.HOURS)
  void mixedLoadForMinutesKeepsMemoryAndDescriptorsFlatWithoutErrors() throws Exception {
    long seconds = Long.getLong("soak.seconds", 0);
    Assumptions.assumeTrue(seconds > 0 && seconds <= 1_800,
        "skipped: the soak takes minutes; run it with -Dsoak.seconds=300 (at most 1800)");
    try (ChildServer server = ChildServer.start(dir, Map.of(), "--host", "127.0.0.1", "--port", "0",
        "--admin-port", "0", "--instances", "2")) {
      int port = server.awaitReadyPort(60);
      LongAdder echoes = new LongAdder();
      LongAdder persistentErrors = new LongAdder();
      List<Thread> persistent = new ArrayList<>();
      boolean[] running = {true};
      for (int t = 0; t < 4; t++) {
        persistent.add(new Thread(() -> pingPong(port, running, echoes, persistentErrors), "soak-persistent-" + t));
      }
      persistent.forEach(Thread::start);
      JsonArray samples = new JsonArray();
      long sampleEveryMs = Math.max(5_000, seconds * 1_000 / 20);
      try (Churn churn = new Churn(port, 8, 2)) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        long start = System.nanoTime();
        while (System.nanoTime() < end) {
          samples.add(sample(server.pid(), (System.nanoTime() - start) / 1_000_000_000L)
              .put("tcpAttempts", churn.tcpAttempts.sum()).put("udpSent", churn.udpSent.sum())
              .put("persistentEchoes", echoes.sum()));
          // the soak's sampling period, not a wait for anything
          Thread.sleep(sampleEveryMs);
        }
        samples.add(sample(server.pid(), seconds));
        // what the heap holds at the end, should it have grown
        jcmd(server.pid(), "GC.class_histogram").stream().limit(15)
            .forEach(l -> System.out.println("soak heap: " + l));
        churn.close();
        running[0] = false;
        for (Thread t : persistent) {
          t.join(10_000);
        }
        JsonObject result = churn.counts().put("seconds", seconds).put("persistentEchoes", echoes.sum())
            .put("persistentErrors", persistentErrors.sum()).put("samples", samples);
        Path out = Path.of("target", "reliability");
        Files.createDirectories(out);
        Files.writeString(out.resolve("soak.json"), result.encodePrettily());
        System.out.println("soak: " + result.copy().put("samples", samples.size()).encode());
        samples.forEach(s -> System.out.println("soak sample: " + s));
        assertThat(result.getLong("tcpFailed")).isZero();
        assertThat(result.getLong("udpLost")).isZero();
        assertThat(result.getLong("persistentErrors")).isZero();
      }
      server.terminate();
      assertThat(server.awaitExit(60)).isZero();
    }
  }

  /** 4 connections per thread, 64-byte ping-pong round robin; a failure reconnects. */
  private static void pingPong(int port, boolean[] running, LongAdder echoes, LongAdder errors) {
    byte[] out = "0123456789abcdef".repeat(4).getBytes(StandardCharsets.US_ASCII);
    byte[] in = new byte[out.length];
    Socket[] sockets = new Socket[PERSISTENT / 4];
    while (running[0]) {
      for (int i = 0; i < sockets.length && running[0]; i++) {
        try {
          if (sockets[i] == null) {
            sockets[i] = Clients.connect(port);
          }
          OutputStream o = sockets[i].getOutputStream();
          InputStream is = sockets[i].getInputStream();
          o.write(out);
          if (is.readNBytes(in, 0, in.length) != in.length || !Arrays.equals(in, out)) {
            throw new IOException("short or wrong echo");
          }
          echoes.increment();
        } catch (IOException e) {
          errors.increment();
          sockets[i] = null;
        }
      }
    }
    for (Socket s : sockets) {
      try {
        if (s != null) {
          s.close();
        }
      } catch (IOException ignored) {
        // closing at the end
      }
    }
  }

  /** The server's heap after a full GC, resident memory and open descriptors. */
  private static JsonObject sample(long pid, long atSeconds) throws Exception {
    jcmd(pid, "GC.run");
    String heap = String.join("\n", jcmd(pid, "GC.heap_info"));
    long usedKb = Long.parseLong(heap.replaceAll("(?s).*?used (\\d+)K.*", "$1"));
    String status = Files.readString(Path.of("/proc", Long.toString(pid), "status"));
    long rssKb = Long.parseLong(status.replaceAll("(?s).*VmRSS:\\s+(\\d+) kB.*", "$1"));
    long fds;
    try (Stream<Path> list = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
      fds = list.count();
    }
    return new JsonObject().put("atSeconds", atSeconds).put("heapAfterGcMiB", usedKb / 1024)
        .put("rssMiB", rssKb / 1024).put("fds", fds);
  }

  private static List<String> jcmd(long pid, String command) throws Exception {
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
        Long.toString(pid), command).redirectErrorStream(true).start();
    List<String> lines = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    p.waitFor(30, TimeUnit.SECONDS);
    return lines;
  }
}
