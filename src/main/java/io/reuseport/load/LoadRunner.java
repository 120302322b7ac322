package io.reuseport.load;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.transport.Transport;
import org.HdrHistogram.Histogram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs one load: its own Vertx (epoll when available) with one context per event loop, the workers spread over
 * them, a progress line each second, and the admin /stats read before the first connection and after the last.
 * Blocks the calling thread, which must not be an event loop.
 */
final class LoadRunner {

  private static final Logger LOG = LoggerFactory.getLogger(LoadRunner.class);
  /** Beyond duration + timeout (the last requests' limit), how long to wait before cutting a run off. */
  private static final long GRACE_NANOS = TimeUnit.SECONDS.toNanos(5);
  private static final long ADMIN_TIMEOUT_S = 10;

  private LoadRunner() {
  }

  static LoadResult run(LoadOptions options, PrintStream progress) throws Exception {
    Transport transport = Transport.EPOLL != null && Transport.EPOLL.available() ? Transport.EPOLL : Transport.NIO;
    Vertx vertx = Vertx.builder()
        .with(new VertxOptions().setEventLoopPoolSize(options.eventLoops()).setPreferNativeTransport(true))
        .withTransport(transport)
        .build();
    // one payload for every TCP write (each sends a duplicate); freed once no channel can still be writing it
    ByteBuf payload = Unpooled.directBuffer(options.payload()).writeBytes(filler(options.payload()));
    try {
      return run(vertx, transport.name(), options, Unpooled.unreleasableBuffer(payload), progress);
    } finally {
      try {
        vertx.close().await(10, TimeUnit.SECONDS);
      } finally {
        payload.release();
      }
    }
  }

  private static LoadResult run(Vertx vertx, String transport, LoadOptions options, ByteBuf payload,
                                PrintStream progress) throws Exception {
    List<Context> contexts = eventLoopContexts(vertx, options.eventLoops());
    AdminStatsProbe probe = options.admin() == null ? null
        : new AdminStatsProbe(vertx, options.admin(), options.mode());
    // the server's counters before the first connection or datagram: the report covers the whole run
    AdminStatsProbe.Reading before = null;
    String problem = null;
    if (probe != null) {
      try {
        before = probe.read().await(ADMIN_TIMEOUT_S, TimeUnit.SECONDS);
      } catch (Exception e) {
        problem = "reading " + options.admin() + "/stats before the run failed: " + e.getMessage();
      }
    }
    LoadRecorder recorder = new LoadRecorder();
    RequestBudget budget = new RequestBudget(System.nanoTime(), options.warmup().toNanos(),
        options.duration().toNanos(), options.maxRequests());
    InetSocketAddress remote = new InetSocketAddress(InetAddress.getByName(options.target().host()),
        options.target().port());
    List<Future<Void>> workers = new ArrayList<>();
    for (int i = 0; i < options.concurrency(); i++) {
      Promise<Void> done = Promise.promise();
      contexts.get(i % contexts.size()).runOnContext(v -> newWorker(vertx, recorder, budget, options, remote,
          payload).run().onComplete(done));
      workers.add(done.future());
    }
    CompletableFuture<?> all = Future.all(workers).toCompletionStage().toCompletableFuture();
    long start = budget.measureStartNanos();
    if (!options.warmup().isZero()) {
      progress.printf("warming up for %.1f s%n", options.warmup().toMillis() / 1000.0);
      TimeUnit.NANOSECONDS.sleep(Math.max(0, start - System.nanoTime()));
    }
    CpuMeter cpu = CpuMeter.start();
    Histogram latency = new Histogram(LoadRecorder.MAX_LATENCY_US, LoadRecorder.SIGNIFICANT_DIGITS);
    long hardStop = start + options.duration().toNanos() + 2 * options.timeout().toNanos() + GRACE_NANOS;
    boolean complete = awaitWithProgress(all, hardStop, start, recorder, latency, progress);
    long elapsed = System.nanoTime() - start;
    double clientCores = cpu.processCores();
    double machineLoad = cpu.machineLoad();
    latency.add(recorder.takeInterval());

    InstanceDistribution distribution = null;
    if (probe != null && before != null) {
      try {
        AdminStatsProbe.Reading after = probe.read().await(ADMIN_TIMEOUT_S, TimeUnit.SECONDS);
        if (Objects.equals(before.process(), after.process())) {
          distribution = InstanceDistribution.between(options.mode().statsMetric(), before.counters(),
              after.counters());
        } else {
          // a takeover or a restart: the second process counted from zero, so no difference means anything
          problem = "another server process answered after the run (" + after.process() + ") than before it ("
              + before.process() + "): a takeover or a restart during the run; the server's counts cannot be"
              + " compared with the client's";
        }
      } catch (Exception e) {
        problem = "reading " + options.admin() + "/stats after the run failed: " + e.getMessage();
      }
    }
    if (probe != null) {
      probe.close();
    }
    return new LoadResult(options, elapsed, budget.started(), recorder.counts(), latency, recorder.errorKinds(),
        transport, clientCores, machineLoad, distribution, problem, complete, recorder.openedTotal(),
        recorder.gaveUpTotal());
  }

  private static LoadWorker newWorker(Vertx vertx, LoadRecorder recorder, RequestBudget budget, LoadOptions options,
                                      InetSocketAddress remote, ByteBuf payload) {
    return options.mode() == LoadMode.UDP_ECHO
        ? new UdpEchoLoad(vertx, recorder, budget, options, remote)
        : new TcpLoad(vertx, recorder, budget, options, remote, payload);
  }

  /** Waits for the workers, printing a line a second; false if cut off at {@code hardStop}. */
  private static boolean awaitWithProgress(CompletableFuture<?> all, long hardStop, long start, LoadRecorder recorder,
                                           Histogram latency, PrintStream progress) throws Exception {
    long lastSuccesses = 0;
    long lastTick = start;
    while (true) {
      try {
        all.get(1, TimeUnit.SECONDS);
        return true;
      } catch (ExecutionException e) {
        throw e.getCause() instanceof Exception cause ? cause : e;
      } catch (TimeoutException e) {
        long now = System.nanoTime();
        Histogram interval = recorder.takeInterval();
        latency.add(interval);
        LoadRecorder.Counts c = recorder.counts();
        double rate = (c.successes() - lastSuccesses) * 1e9 / Math.max(1, now - lastTick);
        progress.printf("[%5.1fs] %,10.0f ok/s  ok %,d  errors %,d  timeouts %,d  p99 %.3f ms%n",
            (now - start) / 1e9, rate, c.successes(), c.errors(), c.timeouts(),
            interval.getTotalCount() == 0 ? 0.0 : interval.getValueAtPercentile(99) / 1000.0);
        lastSuccesses = c.successes();
        lastTick = now;
        if (now - hardStop > 0) {
          LOG.warn("requests still open {} s after the deadline; cutting the run off",
              TimeUnit.NANOSECONDS.toSeconds(now - start));
          return false;
        }
      }
    }
  }

  /** One context per event loop: each instance of a deployed verticle gets its own. */
  private static List<Context> eventLoopContexts(Vertx vertx, int loops) throws TimeoutException {
    List<Context> contexts = new CopyOnWriteArrayList<>();
    vertx.deployVerticle(() -> new VerticleBase() {
      @Override
      public Future<?> start() {
        contexts.add(context);
        return Future.succeededFuture();
      }
    }, new DeploymentOptions().setInstances(loops)).await(10, TimeUnit.SECONDS);
    return List.copyOf(contexts);
  }

  private static byte[] filler(int length) {
    byte[] bytes = new byte[length];
    Arrays.fill(bytes, (byte) 'x');
    return bytes;
  }
}
