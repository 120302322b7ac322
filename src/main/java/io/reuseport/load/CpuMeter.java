package io.reuseport.load;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * How much CPU the client process and the whole machine used over a run, to tell when the client, not the server,
 * was the limit. The process figure is the process CPU time (all threads, user + system) against the wall time; the
 * machine figure is the busy share of the kernel's CPU time counters ({@code /proc/stat}) between the start and the
 * end of the run, so it is exact for a run of any length (a JVM load sample only covers the time since its previous
 * call, which reads 0 on a short run).
 */
final class CpuMeter {

  /** The client counts as saturated from this share of all cores on average. */
  static final double SATURATED_SHARE = 0.9;
  private static final Path PROC_STAT = Path.of("/proc/stat");

  private final com.sun.management.OperatingSystemMXBean os;
  private final Path procStat;
  private final long startCpuNanos;
  private final long startWallNanos;
  private final MachineTimes startTimes;

  /**
   * CPU time of all cores since boot, in clock ticks: {@code busy} is everything but idle and I/O wait.
   */
  record MachineTimes(long busy, long total) {

    /** Parses the aggregate {@code cpu} line of {@code /proc/stat}; null when it is not there. */
    static MachineTimes parse(List<String> procStatLines) {
      for (String line : procStatLines) {
        if (line.startsWith("cpu ")) {
          String[] f = line.trim().split("\\s+");
          long total = 0;
          // user nice system idle iowait irq softirq steal; guest and guest_nice are already in user and nice
          for (int i = 1; i <= Math.min(8, f.length - 1); i++) {
            total += Long.parseLong(f[i]);
          }
          long idle = Long.parseLong(f[4]) + (f.length > 5 ? Long.parseLong(f[5]) : 0);
          return new MachineTimes(total - idle, total);
        }
      }
      return null;
    }

    /** Busy share 0..1 from {@code earlier} to this, or -1 when no tick passed. */
    double loadSince(MachineTimes earlier) {
      long total = this.total - earlier.total;
      return total <= 0 ? -1 : Math.min(1.0, Math.max(0.0, (double) (busy - earlier.busy) / total));
    }
  }

  private CpuMeter(com.sun.management.OperatingSystemMXBean os, Path procStat) {
    this.os = os;
    this.procStat = procStat;
    this.startCpuNanos = os == null ? 0 : os.getProcessCpuTime();
    this.startWallNanos = System.nanoTime();
    this.startTimes = read(procStat);
  }

  static CpuMeter start() {
    return start(PROC_STAT);
  }

  static CpuMeter start(Path procStat) {
    return new CpuMeter(ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean sun ? sun : null, procStat);
  }

  /** Cores the process kept busy on average since start, or -1 when the JVM cannot tell. */
  double processCores() {
    if (os == null || os.getProcessCpuTime() < 0) {
      return -1;
    }
    long wall = System.nanoTime() - startWallNanos;
    return wall <= 0 ? 0 : (double) (os.getProcessCpuTime() - startCpuNanos) / wall;
  }

  /** Busy share of the whole machine (0..1, all cores) since start, or -1 without {@code /proc/stat}. */
  double machineLoad() {
    MachineTimes now = read(procStat);
    return startTimes == null || now == null ? -1 : now.loadSince(startTimes);
  }

  static int cores() {
    return Runtime.getRuntime().availableProcessors();
  }

  static boolean saturated(double processCores) {
    return processCores >= SATURATED_SHARE * cores();
  }

  private static MachineTimes read(Path procStat) {
    try {
      return MachineTimes.parse(Files.readAllLines(procStat));
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }
}
