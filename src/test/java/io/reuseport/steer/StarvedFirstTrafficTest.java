package io.reuseport.steer;

import io.reuseport.testsupport.Admin;
import io.reuseport.testsupport.ChildServer;
import io.reuseport.testsupport.Clients;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The false stall of issue 22 ("its thread on a CPU 0 ms, waiting for one 3 ms"): a fresh server, every thread of it
 * in a CPU cgroup with a tenth of a CPU (as a starved machine, or a container over its limit), gets its first
 * traffic on both instances at once. Netty's JFR events, on by default wherever the {@code jdk.jfr} module is,
 * made the first loop to allocate a buffer chunk load JFR's metadata (seconds at this quota) while the other slept
 * on the event class's initialisation lock, and the watchdog took them out. With the server's default
 * ({@code io.netty.jfr.enabled=false}) no instance is taken out and both serve; the control, the same with
 * {@code -Dio.netty.jfr.enabled=true}, shows the stall. A child JVM on purpose: the class is initialised once per
 * JVM, and the starvation applies to all its threads. Root only (CAP_BPF, the cgroup).
 */
@Timeout(180)
class StarvedFirstTrafficTest {

  private static final Path CPU_CGROUP = Path.of("/sys/fs/cgroup/cpu");
  private static final long PERIOD_US = 100_000;
  private static final long QUOTA_US = 10_000;
  private static final int CONNECTIONS = 16;
  private static final long TRAFFIC_MS = 8_000;
  private static final String STALLED = "steering: instance ";

  @TempDir
  Path dir;

  @BeforeEach
  void rootWithCgroupV1Cpu() throws IOException {
    Assumptions.assumeTrue(Files.readString(Path.of("/proc/self/status")).contains("\nUid:\t0\t"),
        "skipped: the BPF selector needs root (CAP_BPF) to load");
    Assumptions.assumeTrue(Files.exists(CPU_CGROUP.resolve("cpu.cfs_quota_us")),
        "skipped: needs the cgroup v1 CPU controller at " + CPU_CGROUP);
  }

  @Test
  void aStarvedServerTakesNoInstanceOutAtItsFirstTrafficAndBothServe() throws Exception {
    Run run = starvedFirstTraffic(List.of());
    assertThat(run.stalls).as("instances taken out while both made progress").isEmpty();
    for (int i = 0; i < 2; i++) {
      assertThat(run.bytesIn[i]).as("bytes instance %d read while starved", i).isPositive();
    }
    assertThat(run.roundTrips).as("echoes the clients got").isPositive();
  }

  @Test
  void controlWithNettysJfrEventsOnAnInstanceIsTakenOut() throws Exception {
    Run run = starvedFirstTraffic(List.of("-Dio.netty.jfr.enabled=true"));
    assertThat(run.stalls).as("instances taken out with Netty's JFR events on").isNotEmpty();
  }

  private Run starvedFirstTraffic(List<String> jvmOptions) throws Exception {
    try (ChildServer server = ChildServer.start(dir, Map.of(), jvmOptions, "--host", "127.0.0.1", "--port", "0",
        "--admin-host", "127.0.0.1", "--admin-port", "0", "--instances", "2", "--steering", "bpf",
        "--service", "echo");
         CpuQuota quota = CpuQuota.create()) {
      int port = server.awaitReadyPort(60);
      int admin = server.adminPort();
      quota.add(server.pid());
      Run run = new Run();
      ExecutorService clients = Executors.newFixedThreadPool(CONNECTIONS);
      try {
        List<Future<Long>> echoes = new ArrayList<>();
        for (int c = 0; c < CONNECTIONS; c++) {
          echoes.add(clients.submit(() -> echoFor(port, TRAFFIC_MS)));
        }
        for (Future<Long> f : echoes) {
          run.roundTrips += f.get(TRAFFIC_MS * 4, TimeUnit.MILLISECONDS);
        }
      } finally {
        clients.shutdownNow();
      }
      quota.close();
      JsonArray instances = new JsonObject(Admin.get(admin, "/stats").body()).getJsonArray("instances");
      for (int i = 0; i < 2; i++) {
        run.bytesIn[i] = instances.getJsonObject(i).getJsonObject("tcp").getLong("bytesIn");
      }
      run.stalls = server.output().stream().filter(l -> l.contains(STALLED) && l.contains(" stalled (")).toList();
      System.out.printf("jvm options %s: %d echoes, bytes in %d / %d, stalls %s%n", jvmOptions, run.roundTrips,
          run.bytesIn[0], run.bytesIn[1], run.stalls);
      return run;
    }
  }

  /** One connection's echoes of 1 KiB, one after the other, for {@code ms}; the count. */
  private static long echoFor(int port, long ms) throws IOException {
    byte[] out = new byte[1024];
    byte[] in = new byte[1024];
    long count = 0;
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
    try (Socket s = Clients.connect(port)) {
      s.setSoTimeout((int) ms * 2);
      OutputStream o = s.getOutputStream();
      InputStream i = s.getInputStream();
      while (System.nanoTime() < end) {
        o.write(out);
        int got = 0;
        while (got < in.length) {
          int n = i.read(in, got, in.length - got);
          if (n < 0) {
            return count;
          }
          got += n;
        }
        count++;
      }
    }
    return count;
  }

  private static final class Run {
    long roundTrips;
    final long[] bytesIn = new long[2];
    List<String> stalls = List.of();
  }

  /**
   * A CPU cgroup (v1) with {@value #QUOTA_US} µs per {@value #PERIOD_US} µs; a process added moves with all its
   * threads, and goes back to the root group when this is closed (twice is harmless).
   */
  private static final class CpuQuota implements AutoCloseable {
    private final Path group;
    private boolean closed;

    private CpuQuota(Path group) {
      this.group = group;
    }

    static CpuQuota create() throws IOException {
      Path group = CPU_CGROUP.resolve("reuseport-first-traffic-" + ProcessHandle.current().pid() + "-"
          + System.nanoTime());
      Files.createDirectory(group);
      Files.writeString(group.resolve("cpu.cfs_period_us"), Long.toString(PERIOD_US));
      Files.writeString(group.resolve("cpu.cfs_quota_us"), Long.toString(QUOTA_US));
      return new CpuQuota(group);
    }

    void add(long pid) throws IOException {
      Files.writeString(group.resolve("cgroup.procs"), Long.toString(pid));
    }

    @Override
    public void close() throws IOException {
      if (closed) {
        return;
      }
      closed = true;
      for (String tid : Files.readAllLines(group.resolve("tasks"))) {
        try {
          Files.writeString(CPU_CGROUP.resolve("tasks"), tid);
        } catch (IOException e) {
          // the thread ended meanwhile
        }
      }
      Files.delete(group);
    }
  }
}
