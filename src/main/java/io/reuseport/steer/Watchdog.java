package io.reuseport.steer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Watches the instances' heartbeats and their loops' busy shares on a thread of its own (never an instance's event
 * loop: a blocked loop must not block its own rescue) and rewrites the selector's bucket table when an instance
 * stalls or runs again ({@link StallJudge}) and when one loop is much busier than the others ({@link LoadPolicy}).
 * Each change is logged once. A nearly full accept queue is not a reason to steer around an instance: a loop that
 * still runs works its queue off; what shrinks its share is a loop with no spare time.
 */
final class Watchdog {

  private static final Logger LOG = LoggerFactory.getLogger(Watchdog.class);

  private final Selector selector;
  private final SocketSlots sockets;
  private final Heartbeats heartbeats;
  private final StallJudge judge;
  private final LoopLoad load;
  private final long periodMs;
  private final long thresholdMs;
  /** Read by /stats and /metrics from other threads. */
  private final AtomicLongArray outSinceMs;
  private final AtomicReferenceArray<String> why;
  private final ScheduledExecutorService thread;
  /** Reads a stalled loop's stack for the log, so that the watchdog's thread never waits for it. */
  private final ExecutorService stackReader;
  private volatile int[] table;
  /** The load policy's last decision, read by /stats and /metrics. */
  private volatile LoadPolicy.Shares shares;
  /** Each loop's thread's scheduler statistics, files kept open; used by the watchdog's thread only. */
  private final LoopCpu[] loops;

  Watchdog(Selector selector, SocketSlots sockets, Heartbeats heartbeats, long thresholdMs, long recoveryMs,
           long periodMs) {
    this.selector = selector;
    this.sockets = sockets;
    this.heartbeats = heartbeats;
    this.thresholdMs = thresholdMs;
    this.periodMs = periodMs;
    int n = heartbeats.size();
    this.judge = new StallJudge(n, TimeUnit.MILLISECONDS.toNanos(thresholdMs),
        TimeUnit.MILLISECONDS.toNanos(recoveryMs));
    this.outSinceMs = new AtomicLongArray(n);
    this.why = new AtomicReferenceArray<>(n);
    this.loops = new LoopCpu[n];
    Arrays.fill(loops, LoopCpu.open(LoopCpu.UNKNOWN_THREAD));
    this.load = new LoopLoad(n);
    this.shares = LoadPolicy.Shares.start(n);
    this.table = BucketTable.assign(shares.buckets());
    this.stackReader = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "steering-stack-reader");
      t.setDaemon(true);
      return t;
    });
    this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "steering-watchdog");
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Writes the table with every instance in, then checks every {@code periodMs} after the last check ended (a late
   * check is not followed by a burst of catch-up checks).
   */
  void start() {
    selector.writeHealth(BucketTable.flowHealth(judge.healthy()));
    selector.writeTable(table);
    heartbeats.stampAll();
    thread.scheduleWithFixedDelay(this::check, periodMs, periodMs, TimeUnit.MILLISECONDS);
  }

  /** Stops judging (draining or handing over is not a stall); the table stays as it is. */
  void stop() {
    thread.shutdownNow();
    stackReader.shutdownNow();
    try {
      // a check under way finishes before the caller touches the selector
      if (thread.awaitTermination(1, TimeUnit.SECONDS)) {
        for (LoopCpu loop : loops) {
          loop.close();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  int[] table() {
    return table;
  }

  LoadPolicy.Shares shares() {
    return shares;
  }

  /** Wall-clock millis since which instance {@code id} is steered around, or 0. */
  long outSinceMs(int id) {
    return outSinceMs.get(id);
  }

  String why(int id) {
    return why.get(id);
  }

  /**
   * One check; never throws: an exception escaping a periodic task would cancel every later check without a word,
   * leaving an instance steered around for good.
   */
  private void check() {
    try {
      checkOnce();
    } catch (RuntimeException e) {
      LOG.error("steering: watchdog check failed, trying again in {} ms", periodMs, e);
    }
  }

  private void checkOnce() {
    try {
      sockets.retry(selector);
    } catch (RuntimeException e) {
      LOG.error("steering: cannot put a socket in the selector: {}", e.getMessage());
    }
    int n = heartbeats.size();
    long[] stamps = new long[n];
    LoopCpu.Times[] cpu = new LoopCpu.Times[n];
    for (int i = 0; i < n; i++) {
      int tid = heartbeats.thread(i);
      if (loops[i].thread() != tid) {
        loops[i].close();
        loops[i] = LoopCpu.open(tid);
      }
      cpu[i] = loops[i].read();
      stamps[i] = heartbeats.last(i);
    }
    long now = System.nanoTime();
    List<StallJudge.Change> changes = judge.check(now, stamps, cpu);
    LoadPolicy.Shares before = shares;
    // late: a third of the stall threshold (two heartbeats) without a stamp
    long late = TimeUnit.MILLISECONDS.toNanos(thresholdMs) / 3;
    LoadPolicy.Shares next = LoadPolicy.decide(before, stalled(), load.sample(now, cpu, stamps, late));
    if (next.buckets() == before.buckets()) {
      // nothing moves: the signals are kept for /stats, the table stays
      shares = next;
      return;
    }
    int[] nextTable = BucketTable.assign(next.buckets());
    try {
      // health first: a known flow of an instance out moves at once, before its buckets do
      if (!changes.isEmpty()) {
        selector.writeHealth(BucketTable.flowHealth(judge.healthy()));
      }
      selector.writeTable(nextTable);
    } catch (RuntimeException e) {
      // a map write only fails on a bug of ours; keep the old table rather than stop watching
      LOG.error("steering: cannot rewrite the bucket table: {}", e.getMessage());
      return;
    }
    table = nextTable;
    shares = next;
    for (StallJudge.Change c : changes) {
      report(c);
    }
    reportLoad(before, next);
  }

  private boolean[] stalled() {
    boolean[] healthy = judge.healthy();
    boolean[] stalled = new boolean[healthy.length];
    for (int i = 0; i < healthy.length; i++) {
      stalled[i] = !healthy[i];
    }
    return stalled;
  }

  /**
   * One line per table change that the load caused (a stall or a recovery alone is reported by {@link #report}):
   * the table only changes when a loop changes state or a share moves by more than the policy's step.
   */
  private void reportLoad(LoadPolicy.Shares before, LoadPolicy.Shares next) {
    boolean busyChanged = false;
    for (int i = 0; i < next.states().length; i++) {
      busyChanged |= (before.states()[i] == LoadPolicy.State.BUSY) != (next.states()[i] == LoadPolicy.State.BUSY);
    }
    boolean anyBusy = Arrays.asList(next.states()).contains(LoadPolicy.State.BUSY);
    if (!busyChanged && !anyBusy) {
      return;
    }
    StringBuilder line = new StringBuilder();
    for (int i = 0; i < next.states().length; i++) {
      line.append(i == 0 ? "" : ", ").append(i).append(": ")
          .append(String.format("%.1f %% (%s)", next.share(i) * 100, next.reason(i)));
    }
    if (anyBusy) {
      LOG.info("steering: shares of new connections and new UDP flows by spare capacity: {}", line);
    } else {
      LOG.info("steering: no loop much busier than the others any more, even shares again: {}", line);
    }
  }

  private void report(StallJudge.Change c) {
    int id = c.instance();
    if (c.out()) {
      outSinceMs.set(id, System.currentTimeMillis() - c.stalledForMs());
      why.set(id, "event loop made no progress for over " + thresholdMs + " ms");
      String silence = silence(c);
      if (healthyList().isEmpty()) {
        LOG.warn("steering: instance {} stalled ({}) but no other instance is healthy: every bucket stays with its"
            + " own instance until one runs again", id, silence);
      } else {
        LOG.warn("steering: instance {} stalled ({}): new connections and datagrams go to instances {}", id,
            silence, healthyList());
      }
      logWhere(id);
    } else {
      LOG.info("steering: instance {} runs again: back in the table after {} ms steered around", id,
          System.currentTimeMillis() - outSinceMs.get(id));
      outSinceMs.set(id, 0);
      why.set(id, null);
    }
  }

  /** What the silence was made of: enough for an operator to tell a stuck loop from a starved machine. */
  private static String silence(StallJudge.Change c) {
    String cpu = c.ranMs() < 0 ? "the scheduler's view unavailable"
        : "its thread on a CPU " + c.ranMs() + " ms, waiting for one " + c.waitedMs() + " ms";
    return "no progress for " + c.stalledForMs() + " ms: " + cpu + "; " + c.couldRunMs() + " ms counted";
  }

  /**
   * Where the silent loop is now, logged from a thread of its own: a Java stack is read at the loop's next safepoint
   * poll, which a loop throttled by a CPU quota reaches only when it runs again, and the watchdog must not wait for
   * that.
   */
  private void logWhere(int id) {
    Thread loop = heartbeats.loop(id);
    int tid = heartbeats.thread(id);
    try {
      stackReader.execute(() -> {
        String where = LoopStack.describe(loop, tid);
        if (!where.isEmpty()) {
          LOG.warn("steering: instance {} when taken out: {}", id, where);
        }
      });
    } catch (RejectedExecutionException e) {
      // stopping: the stall itself is logged already
    }
  }

  private List<Integer> healthyList() {
    List<Integer> ids = new ArrayList<>();
    boolean[] healthy = judge.healthy();
    for (int i = 0; i < healthy.length; i++) {
      if (healthy[i]) {
        ids.add(i);
      }
    }
    return ids;
  }
}
