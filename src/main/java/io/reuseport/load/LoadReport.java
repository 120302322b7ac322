package io.reuseport.load;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;

import java.util.Locale;
import java.util.Map;

/**
 * Turns a {@link LoadResult} into the text a person reads or the one JSON object a script reads.
 */
final class LoadReport {

  private LoadReport() {
  }

  static JsonObject json(LoadResult r) {
    LoadOptions o = r.options();
    JsonObject json = new JsonObject()
        .put("mode", o.mode().id())
        .put("target", o.target().toString())
        .put("concurrency", o.concurrency())
        .put("payloadBytes", o.payload())
        .put("durationMs", o.duration().toMillis())
        .put("rate", o.rate() > 0 ? o.rate() : null)
        .put("maxRequests", o.maxRequests() > 0 ? o.maxRequests() : null)
        .put("timeoutMs", o.timeout().toMillis())
        .put("elapsedMs", Math.round(r.elapsedNanos() / 1e6))
        .put("complete", r.complete())
        .put("requests", r.counts().requests())
        .put("started", r.started())
        .put("successes", r.counts().successes())
        .put("errors", r.counts().errors())
        .put("timeouts", r.counts().timeouts())
        .put("lateReplies", r.counts().lateReplies())
        .put("errorRate", round(r.errorRate(), 6))
        .put("maxErrorRate", o.maxErrorRate() == LoadOptions.NO_ERROR_LIMIT ? null : o.maxErrorRate())
        .put("passed", r.failure() == null)
        .put("failure", r.failure())
        .put("gaveUp", r.gaveUp())
        .put("throughput", round(r.throughput(), 1))
        .put("throughputUnit", o.mode().unit())
        .put("latencyUs", latency(r.latencyUs()))
        .put("errorKinds", new JsonObject(Map.copyOf(r.errorKinds())))
        .put("client", new JsonObject()
            .put("transport", r.clientTransport())
            .put("eventLoops", o.eventLoops())
            .put("cores", CpuMeter.cores())
            .put("cpuCoresUsed", r.clientCores() < 0 ? null : round(r.clientCores(), 2))
            .put("machineCpuLoad", r.machineLoad() < 0 ? null : round(r.machineLoad(), 3)))
        .put("clientCpuSaturated", r.clientCpuSaturated());
    if (r.distribution() != null) {
      json.put("distribution", distribution(r.distribution())
          .put(o.mode().clientCountName(), r.opened())
          .put("warmupIncluded", !o.warmup().isZero()));
    }
    if (r.distributionProblem() != null) {
      json.put("distributionProblem", r.distributionProblem());
    }
    return json;
  }

  static String text(LoadResult r) {
    LoadOptions o = r.options();
    LoadRecorder.Counts c = r.counts();
    Histogram h = r.latencyUs();
    StringBuilder out = new StringBuilder();
    line(out, "load %s -> %s: %d concurrent, %d B payload, %.1f s%s%s (client: %s, %d event loops)",
        o.mode().id(), o.target(), o.concurrency(), o.payload(), r.seconds(),
        o.rate() > 0 ? String.format(Locale.ROOT, ", rate %.0f/s", o.rate()) : "",
        o.maxRequests() > 0 ? ", max " + o.maxRequests() + " requests" : "", r.clientTransport(), o.eventLoops());
    line(out, "requests    %,d  (successes %,d, errors %,d, timeouts %,d; late replies %,d)",
        c.requests(), c.successes(), c.errors(), c.timeouts(), c.lateReplies());
    line(out, "throughput  %,.1f %s", r.throughput(), o.mode().unit());
    if (h.getTotalCount() > 0) {
      line(out, "latency     p50 %s  p90 %s  p99 %s  p99.9 %s  max %s", ms(h.getValueAtPercentile(50)),
          ms(h.getValueAtPercentile(90)), ms(h.getValueAtPercentile(99)), ms(h.getValueAtPercentile(99.9)),
          ms(h.getMaxValue()));
    }
    if (r.clientCores() >= 0) {
      line(out, "client CPU  %.2f of %d cores%s", r.clientCores(), CpuMeter.cores(),
          r.machineLoad() >= 0 ? String.format(Locale.ROOT, " (whole machine %.0f%% busy)", 100 * r.machineLoad())
              : "");
    }
    if (r.clientCpuSaturated()) {
      line(out, "WARNING     the client's CPU was saturated: these numbers may measure the client, not the server");
    }
    r.errorKinds().forEach((kind, n) -> line(out, "error       %,d x %s", n, kind));
    if (r.gaveUp() > 0) {
      line(out, "gave up     %,d of %,d connections after %d failed connects in a row", r.gaveUp(),
          o.concurrency(), o.connectRetries() + 1);
    }
    if (!r.complete()) {
      line(out, "WARNING     cut off with requests still open");
    }
    InstanceDistribution d = r.distribution();
    if (d != null) {
      line(out, "per instance (%s during this run%s, total %,d; %s):", d.metric(),
          o.warmup().isZero() ? "" : " with its warm-up", d.total(), o.mode().clientCountText(r.opened()));
      for (InstanceDistribution.Share s : d.instances()) {
        double share = d.total() == 0 ? 0.0 : 100.0 * s.delta() / d.total();
        line(out, "  instance %-4s %,12d  %5.1f%%", s.id(), s.delta(), share);
      }
      line(out, "  Jain's index %s over %d instances", Double.isNaN(d.jain()) ? "n/a"
          : String.format(Locale.ROOT, "%.4f", d.jain()), d.instances().size());
    }
    if (d != null && d.total() != r.opened()) {
      line(out, "  the server counted %,d, the client %,d: %s", d.total(), r.opened(), mismatch(d.total(), r.opened(),
          o.mode()));
    }
    if (r.distributionProblem() != null) {
      line(out, "admin       %s", r.distributionProblem());
    }
    if (r.failure() != null) {
      line(out, "FAILED      %s", r.failure());
    }
    return out.toString();
  }

  /** Why the server's count of this run differs from the client's. */
  private static String mismatch(long server, long client, LoadMode mode) {
    if (server > client) {
      return "other clients were active on the server during the run";
    }
    return mode.udp() ? "datagrams were lost on the way (see the server's udp.drops)"
        : "some connections were never accepted by the server (still queued, or dropped)";
  }

  private static JsonObject latency(Histogram h) {
    boolean any = h.getTotalCount() > 0;
    return new JsonObject()
        .put("count", h.getTotalCount())
        .put("p50", any ? h.getValueAtPercentile(50) : null)
        .put("p90", any ? h.getValueAtPercentile(90) : null)
        .put("p99", any ? h.getValueAtPercentile(99) : null)
        .put("p999", any ? h.getValueAtPercentile(99.9) : null)
        .put("max", any ? h.getMaxValue() : null)
        .put("mean", any ? round(h.getMean(), 1) : null);
  }

  private static JsonObject distribution(InstanceDistribution d) {
    JsonArray instances = new JsonArray();
    for (InstanceDistribution.Share s : d.instances()) {
      instances.add(new JsonObject().put("id", s.id()).put("before", s.before()).put("after", s.after())
          .put("delta", s.delta()));
    }
    return new JsonObject()
        .put("metric", d.metric())
        .put("instances", instances)
        .put("total", d.total())
        .put("jain", Double.isNaN(d.jain()) ? null : round(d.jain(), 4));
  }

  private static String ms(long micros) {
    return String.format(Locale.ROOT, "%.3f ms", micros / 1000.0);
  }

  private static double round(double v, int digits) {
    double scale = Math.pow(10, digits);
    return Math.round(v * scale) / scale;
  }

  private static void line(StringBuilder out, String format, Object... args) {
    out.append(String.format(Locale.ROOT, format, args)).append(System.lineSeparator());
  }
}
