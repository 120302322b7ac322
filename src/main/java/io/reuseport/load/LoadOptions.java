package io.reuseport.load;

import java.net.URI;
import java.time.Duration;
import java.util.Locale;

/**
 * One load run, checked: every value is in range once a record exists.
 *
 * @param rate requests per second over all workers, 0 for as fast as the server answers
 * @param admin base URL of the server's admin HTTP server, or null
 * @param maxRequests requests to attempt at most, 0 for no limit (the duration still bounds the run)
 * @param timeout how long one request may wait for its answer before it counts as a timeout
 * @param eventLoops the client's event loops
 * @param warmup how long to run before measuring (requests started then are not counted)
 * @param connectRetries failed connects in a row a worker tolerates (each followed by a back-off) before it stops
 * @param maxErrorRate the run fails when (errors + timeouts) / requests is above this, 0..1; -1 for no limit
 */
record LoadOptions(LoadMode mode, Target target, int concurrency, Duration duration, int payload, double rate,
                   URI admin, boolean json, boolean allowRemote, long maxRequests, Duration timeout,
                   int eventLoops, Duration warmup, int connectRetries, double maxErrorRate) {

  static final int MAX_PAYLOAD = 65_000;

  LoadOptions {
    require(concurrency >= 1 && concurrency <= 100_000, "--concurrency must be 1..100000, not " + concurrency);
    require(!duration.isNegative() && !duration.isZero(), "--duration must be positive");
    require(duration.compareTo(Duration.ofHours(24)) <= 0, "--duration must be at most 24h");
    require(payload >= 1 && payload <= MAX_PAYLOAD, "--payload must be 1.." + MAX_PAYLOAD + " bytes, not " + payload);
    require(rate >= 0, "--rate must be >= 0 (0 = unlimited)");
    require(maxRequests >= 0, "--max-requests must be >= 0 (0 = unlimited)");
    require(!timeout.isNegative() && !timeout.isZero(), "--timeout must be positive");
    require(!warmup.isNegative() && warmup.compareTo(Duration.ofHours(1)) <= 0, "--warmup must be 0..1h");
    require(eventLoops >= 1 && eventLoops <= 1024, "--event-loops must be 1..1024, not " + eventLoops);
    require(connectRetries >= 0 && connectRetries <= 1000, "--connect-retries must be 0..1000, not " + connectRetries);
    require(maxErrorRate == NO_ERROR_LIMIT || (maxErrorRate >= 0 && maxErrorRate <= 1),
        "--max-error-rate must be 0..1 or 0%..100%");
  }

  static final double NO_ERROR_LIMIT = -1;
  static final int DEFAULT_CONNECT_RETRIES = 8;

  /** Parses {@code 0.05} or {@code 5%}. */
  static double parseRate(String text) {
    String t = text.trim();
    boolean percent = t.endsWith("%");
    try {
      double value = Double.parseDouble(percent ? t.substring(0, t.length() - 1) : t);
      double rate = percent ? value / 100 : value;
      if (!(rate >= 0 && rate <= 1)) {
        throw new IllegalArgumentException("--max-error-rate must be 0..1 or 0%..100%, not " + text);
      }
      return rate;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--max-error-rate must be 0..1 or 0%..100%, not " + text);
    }
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  /** The request timeout when none is given: a lost datagram should not stall a flow for long. */
  static Duration defaultTimeout(LoadMode mode) {
    return mode == LoadMode.UDP_ECHO ? Duration.ofSeconds(1) : Duration.ofSeconds(5);
  }

  /** Nanoseconds between two request starts of one worker when {@code rate} is set, else 0. */
  long workerIntervalNanos() {
    return rate <= 0 ? 0 : (long) (1e9 * concurrency / rate);
  }

  /**
   * Parses {@code 10s}, {@code 500ms}, {@code 2m}, {@code 1h}, {@code 1.5s}; a bare number is seconds.
   */
  static Duration parseDuration(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    double scaleMs;
    String number;
    if (t.endsWith("ms")) {
      scaleMs = 1;
      number = t.substring(0, t.length() - 2);
    } else if (t.endsWith("s")) {
      scaleMs = 1_000;
      number = t.substring(0, t.length() - 1);
    } else if (t.endsWith("m")) {
      scaleMs = 60_000;
      number = t.substring(0, t.length() - 1);
    } else if (t.endsWith("h")) {
      scaleMs = 3_600_000;
      number = t.substring(0, t.length() - 1);
    } else {
      scaleMs = 1_000;
      number = t;
    }
    try {
      return Duration.ofMillis(Math.round(Double.parseDouble(number) * scaleMs));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' is not a duration (e.g. 10s, 500ms, 2m)");
    }
  }
}
