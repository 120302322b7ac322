package io.reuseport.bench.jmh;

import com.sun.management.OperatingSystemMXBean;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

import java.lang.management.ManagementFactory;
import java.util.Collection;
import java.util.List;

/**
 * CPU time per operation: the benchmark process's CPU time (all its threads, user and system) over an iteration,
 * divided by the iteration's operations ({@code cpu.time.norm}, ns/op). On a machine that other work keeps busy, a
 * benchmark's wall-clock time per operation counts the time its threads waited for a core; its CPU time does not,
 * and it is what bench/compare.sh reports per connection and message. It includes the JIT's and the GC's threads,
 * which are mostly quiet once warmed up, and the event loop's thread where a benchmark hands its work to one.
 * {@code bench/jmh.sh} adds it to every run ({@code -prof io.reuseport.bench.jmh.CpuTimeProfiler}).
 */
public final class CpuTimeProfiler implements InternalProfiler {

  private final OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
  private long cpuBefore;

  @Override
  public String getDescription() {
    return "process CPU time (all threads, user + system) per operation";
  }

  @Override
  public void beforeIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams) {
    cpuBefore = os.getProcessCpuTime();
  }

  @Override
  public Collection<? extends Result> afterIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams,
                                                     IterationResult result) {
    long cpu = os.getProcessCpuTime() - cpuBefore;
    long ops = result.getMetadata().getAllOps();
    double perOp = ops == 0 ? Double.NaN : (double) cpu / ops;
    return List.of(new ScalarResult("cpu.time.norm", perOp, "ns/op", AggregationPolicy.AVG));
  }
}
