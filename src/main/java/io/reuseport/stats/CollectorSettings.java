package io.reuseport.stats;

/**
 * What the collector needs to know about the server it watches.
 */
public record CollectorSettings(int instances, String transport, String balancing, int port, long intervalMs,
                                double fairnessWarnBelow, long fairnessMinSample) {
}
