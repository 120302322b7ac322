package io.reuseport.bench.jmh;

import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * CPU time per operation ({@code cpu.time.norm}, ns/op): the CPU time (user + system) that the benchmark process's
 * Java threads used over an iteration, divided by its operations. That is the benchmark's thread and, where a
 * benchmark hands its work to an event loop, the loop's thread; not the JIT compiler's or the GC's threads, which
 * the JVM does not count as Java threads (allocation shows in {@code -prof gc} instead).
 *
 * <p>On a machine that other work keeps busy, a benchmark's wall-clock time per operation counts the time its
 * threads waited for a core, and a JIT that is still catching up counts in the process's CPU time; the Java
 * threads' CPU time counts neither, and it is the unit bench/compare.sh reports per connection and message.
 * {@code bench/jmh.sh} adds this profiler to every run ({@code -prof io.reuseport.bench.jmh.CpuTimeProfiler}).
 */
public final class CpuTimeProfiler implements InternalProfiler {

  private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
  private Map<Long, Long> before = Map.of();

  @Override
  public String getDescription() {
    return "CPU time (user + system) of the Java threads per operation";
  }

  @Override
  public void beforeIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams) {
    before = cpuByThread();
  }

  @Override
  public Collection<? extends Result> afterIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams,
                                                     IterationResult result) {
    long used = 0;
    for (Map.Entry<Long, Long> thread : cpuByThread().entrySet()) {
      // a thread started during the iteration counts from 0; one that ended is not counted
      used += thread.getValue() - before.getOrDefault(thread.getKey(), 0L);
    }
    long ops = result.getMetadata().getAllOps();
    double perOp = ops == 0 ? Double.NaN : (double) used / ops;
    return List.of(new ScalarResult("cpu.time.norm", perOp, "ns/op", AggregationPolicy.AVG));
  }

  private Map<Long, Long> cpuByThread() {
    Map<Long, Long> cpu = new HashMap<>();
    for (long id : threads.getAllThreadIds()) {
      long nanos = threads.getThreadCpuTime(id);
      if (nanos >= 0) {
        cpu.put(id, nanos);
      }
    }
    return cpu;
  }
}
