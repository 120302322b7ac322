package io.reuseport.stats;

/**
 * The stats collector's options: what it needs to know about the server it watches.
 *
 * @param http whether the instances serve HTTP (the dashboard then shows requests rather than datagrams)
 */
public record StatsCollectorOptions(int instances, String transport, String balancing, int port, long intervalMs,
                                    double fairnessWarnBelow, long fairnessMinSample, boolean http) {
}
