package io.reuseport.load;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Bounds a run in count and time: a request may start only before the deadline and while the count lasts. Shared
 * by every worker; each measured start takes one ticket, so with a count exactly that many requests are attempted.
 * Starts during the warm-up are free and not counted.
 */
final class RequestBudget {

  /** What a worker may do now. */
  enum Ticket { STOP, WARMUP, MEASURED }

  private final long measureStartNanos;
  private final long deadlineNanos;
  private final AtomicLong remaining;
  private final AtomicLong started = new AtomicLong();

  /**
   * @param maxRequests at most this many measured starts, 0 for no limit
   */
  RequestBudget(long startNanos, long warmupNanos, long durationNanos, long maxRequests) {
    this.measureStartNanos = startNanos + warmupNanos;
    this.deadlineNanos = measureStartNanos + durationNanos;
    this.remaining = new AtomicLong(maxRequests == 0 ? Long.MAX_VALUE : maxRequests);
  }

  Ticket tryStart() {
    long now = System.nanoTime();
    if (now - measureStartNanos < 0) {
      return Ticket.WARMUP;
    }
    if (now - deadlineNanos >= 0 || remaining.getAndDecrement() <= 0) {
      return Ticket.STOP;
    }
    started.incrementAndGet();
    return Ticket.MEASURED;
  }

  long measureStartNanos() {
    return measureStartNanos;
  }

  /** Measured requests started so far. */
  long started() {
    return started.get();
  }
}
