package io.reuseport.load;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Bounds a run in count and time: a request may start only before the deadline and while the count lasts. Shared
 * by every worker; each start takes one ticket, so with a count exactly that many requests are attempted.
 */
final class RequestBudget {

  private final long deadlineNanos;
  private final AtomicLong remaining;
  private final AtomicLong started = new AtomicLong();

  /**
   * @param maxRequests at most this many starts, 0 for no limit
   */
  RequestBudget(long startNanos, long durationNanos, long maxRequests) {
    this.deadlineNanos = startNanos + durationNanos;
    this.remaining = new AtomicLong(maxRequests == 0 ? Long.MAX_VALUE : maxRequests);
  }

  /** Takes a ticket; false once the deadline has passed or the count is used up. */
  boolean tryStart() {
    if (System.nanoTime() - deadlineNanos >= 0) {
      return false;
    }
    if (remaining.getAndDecrement() <= 0) {
      return false;
    }
    started.incrementAndGet();
    return true;
  }

  /** Requests started so far. */
  long started() {
    return started.get();
  }
}
