package io.reuseport.steer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.StringJoiner;

/**
 * What a silent loop's thread is doing when the watchdog takes it out: where the kernel has it asleep
 * ({@code /proc/self/task/TID/wchan}, e.g. {@code futex_wait_queue} for a lock or a sleep, {@code do_epoll_wait}
 * for an idle loop) and its innermost Java frames. An operator tells from it a loop stuck in its own code from one
 * that slept on something shared with a thread that could not run (a lock, a log appender): the scheduler's times
 * alone say only that it was neither running nor waiting for a CPU. Read on the watchdog's thread, once per stall.
 */
final class LoopStack {

  /** Frames shown: enough to name the call that blocks and its caller in our code or a library's. */
  static final int FRAMES = 6;

  private LoopStack() {
  }

  /** {@code "asleep in futex_wait_queue at a.B.c(B.java:12) < ..."}; parts that cannot be read are left out. */
  static String describe(Thread loop, int tid) {
    StringJoiner where = new StringJoiner(" ");
    String wchan = wchan(tid);
    if (!wchan.isEmpty()) {
      where.add("kernel wait channel " + wchan);
    }
    if (loop != null) {
      StackTraceElement[] frames = loop.getStackTrace();
      if (frames.length > 0) {
        StringJoiner stack = new StringJoiner(" < ");
        for (int i = 0; i < Math.min(FRAMES, frames.length); i++) {
          stack.add(frames[i].toString());
        }
        where.add("at " + stack);
      }
    }
    return where.toString();
  }

  /** The kernel function the thread sleeps in, "0" while it runs or waits for a CPU, "" when unreadable. */
  private static String wchan(int tid) {
    if (tid <= 0) {
      return "";
    }
    try {
      return Files.readString(Path.of("/proc/self/task/" + tid + "/wchan")).trim();
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }
}
