package io.reuseport.steer;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Each instance's last sign of progress: a periodic task on the instance's own event loop stamps it, so a blocked
 * loop stops stamping. Written by the loops, read by the {@link Watchdog}'s thread.
 */
public final class Heartbeats {

  private final AtomicLongArray stamps;

  public Heartbeats(int instances) {
    stamps = new AtomicLongArray(instances);
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
  }

  long last(int id) {
    return stamps.get(id);
  }

  int size() {
    return stamps.length();
  }
}
