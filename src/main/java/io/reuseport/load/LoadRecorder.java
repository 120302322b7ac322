package io.reuseport.load;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Outcome counters and the latency recorder, written by the workers on every event loop at once (wait-free:
 * {@link LongAdder} and HdrHistogram's {@link Recorder}) and read by the one thread that reports.
 */
final class LoadRecorder {

  /** Latencies above this (5 minutes) are recorded as this. */
  static final long MAX_LATENCY_US = TimeUnit.MINUTES.toMicros(5);
  static final int SIGNIFICANT_DIGITS = 3;
  private static final int MAX_ERROR_KINDS = 20;

  private final Recorder latency = new Recorder(MAX_LATENCY_US, SIGNIFICANT_DIGITS);
  private final LongAdder successes = new LongAdder();
  private final LongAdder errors = new LongAdder();
  private final LongAdder timeouts = new LongAdder();
  private final LongAdder lateReplies = new LongAdder();
  private final LongAdder opened = new LongAdder();
  private final LongAdder gaveUp = new LongAdder();
  private final Map<String, LongAdder> errorKinds = new ConcurrentHashMap<>();

  /** Counts of one moment. {@code requests} is the sum of the three outcomes. */
  record Counts(long successes, long errors, long timeouts, long lateReplies) {
    long requests() {
      return successes + errors + timeouts;
    }
  }

  void success(long latencyNanos) {
    latency.recordValue(Math.min(MAX_LATENCY_US, Math.max(0, latencyNanos / 1_000)));
    successes.increment();
  }

  void error(Throwable cause) {
    errors.increment();
    String kind = cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : ": " + cause.getMessage());
    LongAdder count = errorKinds.get(kind);
    if (count == null && errorKinds.size() < MAX_ERROR_KINDS) {
      count = errorKinds.computeIfAbsent(kind, k -> new LongAdder());
    }
    if (count != null) {
      count.increment();
    }
  }

  void timeout() {
    timeouts.increment();
  }

  /** An answer that came after its request had timed out, or for no request of ours. */
  void lateReply() {
    lateReplies.increment();
  }

  /**
   * One unit of what the server's counter for this mode counts was handed to it: a TCP connection established or a
   * datagram sent. Counted from the first connection on, warm-up included, to match the server's view of the run.
   */
  void opened() {
    opened.increment();
  }

  /** Connections established (TCP modes) or datagrams sent (UDP) over the whole run, warm-up included. */
  long openedTotal() {
    return opened.sum();
  }

  /** A worker stopped early because its connects kept failing. */
  void gaveUp() {
    gaveUp.increment();
  }

  long gaveUpTotal() {
    return gaveUp.sum();
  }

  Counts counts() {
    return new Counts(successes.sum(), errors.sum(), timeouts.sum(), lateReplies.sum());
  }

  /** Latencies (µs) recorded since the last call; call from one thread only. */
  Histogram takeInterval() {
    return latency.getIntervalHistogram();
  }

  /** The first error kinds seen and how often each occurred. */
  Map<String, Long> errorKinds() {
    Map<String, Long> out = new LinkedHashMap<>();
    errorKinds.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }
}
