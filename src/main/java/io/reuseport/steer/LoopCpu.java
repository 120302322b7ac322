package io.reuseport.steer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * What Linux's scheduler says about one thread of this process: how long it ran on a CPU and how long it was
 * runnable but waited for one (on a run queue, or throttled by a CPU quota), from
 * {@code /proc/self/task/TID/schedstat} (present with {@code CONFIG_SCHED_INFO}, as on common distribution kernels),
 * and whether it is runnable now ({@code /proc/self/task/TID/stat}). The kernel adds a wait to the total only once
 * the thread gets a CPU, so a thread that has been waiting for a long time shows no progress at all but is runnable.
 * It is how the {@link Watchdog} tells a loop that does not get to its timers because it is stuck from one that
 * waits for a CPU.
 */
final class LoopCpu implements AutoCloseable {

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

  private static final LoopCpu NONE = new LoopCpu(UNKNOWN_THREAD, null, null);
  /** Room for a task's {@code stat} line (about 300 bytes; the name is at most 64). */
  private static final int BUFFER_BYTES = 1024;

  private final int tid;
  private final FileChannel schedstat;
  private final FileChannel stat;
  private final ByteBuffer buffer = ByteBuffer.allocate(BUFFER_BYTES);

  private LoopCpu(int tid, FileChannel schedstat, FileChannel stat) {
    this.tid = tid;
    this.schedstat = schedstat;
    this.stat = stat;
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

  /**
   * A reader of thread {@code tid} of this process, its two files opened once: the watchdog reads them every
   * check, and a read from offset 0 of an open {@code /proc} file ({@code pread}) is one system call where
   * opening, reading and closing it each time were five. A reader that cannot open them reads
   * {@link Times#UNKNOWN}.
   */
  static LoopCpu open(int tid) {
    if (tid <= 0) {
      return NONE;
    }
    Path task = Path.of("/proc/self/task/" + tid);
    FileChannel schedstat = null;
    try {
      schedstat = FileChannel.open(task.resolve("schedstat"), StandardOpenOption.READ);
      return new LoopCpu(tid, schedstat, FileChannel.open(task.resolve("stat"), StandardOpenOption.READ));
    } catch (IOException | RuntimeException e) {
      closeQuietly(schedstat);
      return NONE;
    }
  }

  /** The thread this reads, or {@link #UNKNOWN_THREAD}. */
  int thread() {
    return tid;
  }

  /** The thread's times so far, or {@link Times#UNKNOWN} (no such thread any more, no statistics). */
  Times read() {
    if (schedstat == null) {
      return Times.UNKNOWN;
    }
    try {
      String[] fields = ascii(schedstat).trim().split(" ");
      String line = ascii(stat);
      // "TID (name) S ...": the state follows the name, which may hold spaces and parentheses
      char state = line.charAt(line.lastIndexOf(')') + 2);
      return new Times(Long.parseLong(fields[0]), Long.parseLong(fields[1]), state == 'R');
    } catch (IOException | RuntimeException e) {
      return Times.UNKNOWN;
    }
  }

  @Override
  public void close() {
    closeQuietly(schedstat);
    closeQuietly(stat);
  }

  /** The whole file from its start: a read at offset 0 makes the kernel render a {@code /proc} file afresh. */
  private String ascii(FileChannel file) throws IOException {
    buffer.clear();
    int n = file.read(buffer, 0);
    if (n <= 0) {
      throw new IOException("empty");
    }
    return new String(buffer.array(), 0, n, StandardCharsets.US_ASCII);
  }

  private static void closeQuietly(FileChannel file) {
    if (file != null) {
      try {
        file.close();
      } catch (IOException e) {
        // a /proc file: nothing was written that could be lost
      }
    }
  }
}
