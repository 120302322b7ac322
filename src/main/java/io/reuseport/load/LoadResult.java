package io.reuseport.load;

import org.HdrHistogram.Histogram;

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
 */
record LoadResult(LoadOptions options, long elapsedNanos, long started, LoadRecorder.Counts counts,
                  Histogram latencyUs, Map<String, Long> errorKinds, String clientTransport, double clientCores,
                  double machineLoad, InstanceDistribution distribution, String distributionProblem,
                  boolean complete) {

  double seconds() {
    return elapsedNanos / 1e9;
  }

  /** Successful requests per second. */
  double throughput() {
    return elapsedNanos == 0 ? 0 : counts.successes() / seconds();
  }

  boolean clientCpuSaturated() {
    return clientCores >= 0 && CpuMeter.saturated(clientCores);
  }
}
