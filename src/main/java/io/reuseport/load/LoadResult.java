package io.reuseport.load;

import org.HdrHistogram.Histogram;

import java.util.Locale;
import java.util.Map;

/**
 * What one run measured.
 *
 * @param started requests started (tickets taken from the budget)
 * @param latencyUs latency of the successful requests, microseconds
 * @param clientCores cores the client process kept busy on average, -1 if unknown
 * @param machineLoad whole-machine CPU load 0..1 on average, -1 if unknown
 * @param distribution per-instance spread from the admin server, or null
 * @param distributionProblem why there is no distribution although {@code --admin} was given, or null
 * @param complete false when the run had to be cut off at its hard limit with requests still open
 * @param opened connections established (TCP) or datagrams sent (UDP) over the whole run, warm-up included: what
 *     the server's counter in {@code distribution} should have counted
 * @param gaveUp workers that stopped early because their connects kept failing
 */
record LoadResult(LoadOptions options, long elapsedNanos, long started, LoadRecorder.Counts counts,
                  Histogram latencyUs, Map<String, Long> errorKinds, String clientTransport, double clientCores,
                  double machineLoad, InstanceDistribution distribution, String distributionProblem,
                  boolean complete, long opened, long gaveUp) {

  double seconds() {
    return elapsedNanos / 1e9;
  }

  /** Successful requests per second. */
  double throughput() {
    return elapsedNanos == 0 ? 0 : counts.successes() / seconds();
  }

  /** Failed or timed-out requests over all requests, 0 when there was none. */
  double errorRate() {
    long requests = counts.requests();
    return requests == 0 ? 0 : (double) (counts.errors() + counts.timeouts()) / requests;
  }

  /** Why this run failed (no success, or more errors than allowed), or null when it passed. */
  String failure() {
    if (counts.successes() == 0) {
      return counts.requests() == 0 ? "no request was made" : "no request succeeded (" + counts.requests()
          + " attempted: " + counts.errors() + " errors, " + counts.timeouts() + " timeouts)";
    }
    double limit = options.maxErrorRate();
    if (limit != LoadOptions.NO_ERROR_LIMIT && errorRate() > limit) {
      return String.format(Locale.ROOT, "%.2f%% of requests failed or timed out, more than the %.2f%% "
          + "--max-error-rate allows", 100 * errorRate(), 100 * limit);
    }
    return null;
  }

  boolean clientCpuSaturated() {
    return clientCores >= 0 && CpuMeter.saturated(clientCores);
  }
}
