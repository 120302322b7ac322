package io.reuseport.steer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What Linux's scheduler says about one thread of this process: how long it ran on a CPU and how long it was
 * runnable but waited for one (on a run queue, or throttled by a CPU quota), from
 * {@code /proc/self/task/TID/schedstat} (present with {@code CONFIG_SCHED_INFO}, as on common distribution kernels),
 * and whether it is runnable now ({@code /proc/self/task/TID/stat}). The kernel adds a wait to the total only once
 * the thread gets a CPU, so a thread that has been waiting for a long time shows no progress at all but is runnable.
 * It is how the {@link Watchdog} tells a loop that does not get to its timers because it is stuck from one that
 * waits for a CPU.
 */
final class LoopCpu {

  /** A thread whose id could not be read (no {@code /proc}). */
  static final int UNKNOWN_THREAD = -1;

  /**
   * Cumulative times of one thread, in nanoseconds, and its state.
   *
   * @param ranNanos time on a CPU
   * @param waitedNanos time runnable without a CPU, up to the last time it got one
   * @param runnable whether it is on a CPU or waiting for one now (not sleeping)
   */
  record Times(long ranNanos, long waitedNanos, boolean runnable) {
    /** Unreadable: the thread is unknown, gone, or the kernel keeps no such statistics. */
    static final Times UNKNOWN = new Times(-1, -1, false);

    boolean known() {
      return ranNanos >= 0 && waitedNanos >= 0;
    }
  }

  private LoopCpu() {
  }

  /** The calling thread's id in the kernel ({@code /proc/thread-self} names it), or {@link #UNKNOWN_THREAD}. */
  static int currentThreadId() {
    try {
      Path link = Files.readSymbolicLink(Path.of("/proc/thread-self"));
      return Integer.parseInt(link.getFileName().toString());
    } catch (IOException | RuntimeException e) {
      return UNKNOWN_THREAD;
    }
  }

  /** The times of thread {@code tid} of this process so far, or {@link Times#UNKNOWN}. */
  static Times read(int tid) {
    if (tid <= 0) {
      return Times.UNKNOWN;
    }
    try {
      Path task = Path.of("/proc/self/task/" + tid);
      String[] fields = ascii(task.resolve("schedstat")).trim().split(" ");
      String stat = ascii(task.resolve("stat"));
      // "TID (name) S ...": the state follows the name, which may hold spaces and parentheses
      char state = stat.charAt(stat.lastIndexOf(')') + 2);
      return new Times(Long.parseLong(fields[0]), Long.parseLong(fields[1]), state == 'R');
    } catch (IOException | RuntimeException e) {
      return Times.UNKNOWN;
    }
  }

  private static String ascii(Path file) throws IOException {
    return new String(Files.readAllBytes(file), StandardCharsets.US_ASCII);
  }
}
