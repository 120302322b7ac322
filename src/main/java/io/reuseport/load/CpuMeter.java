package io.reuseport.load;

import java.lang.management.ManagementFactory;

/**
 * How much CPU the client process used over a run, to tell when the client, not the server, was the limit.
 * Uses the process CPU time (all threads, user + system) against the wall time.
 */
final class CpuMeter {

  /** The client counts as saturated from this share of all cores on average. */
  static final double SATURATED_SHARE = 0.9;

  private final com.sun.management.OperatingSystemMXBean os;
  private final long startCpuNanos;
  private final long startWallNanos;
  private double machineLoadSum;
  private int machineLoadSamples;

  private CpuMeter(com.sun.management.OperatingSystemMXBean os) {
    this.os = os;
    this.startCpuNanos = os == null ? 0 : os.getProcessCpuTime();
    this.startWallNanos = System.nanoTime();
  }

  static CpuMeter start() {
    return new CpuMeter(ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean sun ? sun : null);
  }

  /** Samples the whole machine's recent CPU load; call about once a second. */
  void sample() {
    if (os != null) {
      double load = os.getCpuLoad();
      if (load >= 0) {
        machineLoadSum += load;
        machineLoadSamples++;
      }
    }
  }

  /** Cores the process kept busy on average since start, or -1 when the JVM cannot tell. */
  double processCores() {
    if (os == null || os.getProcessCpuTime() < 0) {
      return -1;
    }
    long wall = System.nanoTime() - startWallNanos;
    return wall <= 0 ? 0 : (double) (os.getProcessCpuTime() - startCpuNanos) / wall;
  }

  /** Average load of the whole machine (0..1) over the samples, or -1 without samples. */
  double machineLoad() {
    return machineLoadSamples == 0 ? -1 : machineLoadSum / machineLoadSamples;
  }

  static int cores() {
    return Runtime.getRuntime().availableProcessors();
  }

  static boolean saturated(double processCores) {
    return processCores >= SATURATED_SHARE * cores();
  }
}
