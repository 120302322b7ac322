package io.reuseport.steer;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Each instance's last sign of progress: a periodic task on the instance's own event loop stamps it, so a blocked
 * loop stops stamping. The first stamp also records which kernel thread the loop is, so that the {@link Watchdog}
 * can ask the scheduler whether a silent loop was stuck or waiting for a CPU ({@link LoopCpu}). Written by the
 * loops, read by the watchdog's thread.
 */
public final class Heartbeats {

  private static final int NOT_YET = 0;

  private final AtomicLongArray stamps;
  private final AtomicIntegerArray threads;
  private final AtomicReferenceArray<Thread> loops;

  public Heartbeats(int instances) {
    stamps = new AtomicLongArray(instances);
    threads = new AtomicIntegerArray(instances);
    loops = new AtomicReferenceArray<>(instances);
    long now = System.nanoTime();
    for (int i = 0; i < instances; i++) {
      stamps.set(i, now);
    }
  }

  /** Stamps every instance now: the watchdog starts counting from here, not from when the instances bound. */
  void stampAll() {
    long now = System.nanoTime();
    for (int i = 0; i < stamps.length(); i++) {
      stamps.set(i, now);
    }
  }

  /** Called on instance {@code id}'s event loop: it is running. */
  public void stamp(int id) {
    stamps.set(id, System.nanoTime());
    if (threads.get(id) == NOT_YET) {
      // once per loop: a read of /proc/thread-self, no blocking I/O
      loops.set(id, Thread.currentThread());
      threads.set(id, LoopCpu.currentThreadId());
    }
  }

  long last(int id) {
    return stamps.get(id);
  }

  /** Instance {@code id}'s kernel thread id, or {@link LoopCpu#UNKNOWN_THREAD} (also before its first stamp). */
  int thread(int id) {
    int tid = threads.get(id);
    return tid == NOT_YET ? LoopCpu.UNKNOWN_THREAD : tid;
  }

  /** Instance {@code id}'s loop thread, or null before its first stamp. */
  Thread loop(int id) {
    return loops.get(id);
  }

  int size() {
    return stamps.length();
  }
}
