package io.reuseport.load;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A reply that arrives after the timeout is a timeout, even when the worker's periodic timeout check has not run
 * yet: here the worker's own event loop is busy past the timeout before the reply is handed over, as on a loaded
 * machine, so the check cannot run first. The control, a reply within the timeout, is a success. For every mode:
 * the rule lives in {@link LoadWorker}, which each mode's worker extends.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class LateReplyTest {

  private static final Duration TIMEOUT = Duration.ofMillis(100);
  private static final int REQUESTS = 3;

  @ParameterizedTest(name = "reply after {0} ms")
  @ValueSource(ints = {150, 0})
  void aReplyAfterTheTimeoutIsATimeout(int replyAfterMs, Vertx vertx, VertxTestContext test) {
    LoadRecorder recorder = new LoadRecorder();
    RequestBudget budget = new RequestBudget(System.nanoTime(), 0, Duration.ofSeconds(20).toNanos(), REQUESTS);
    LoadOptions options = new LoadOptions(LoadMode.UDP_ECHO, new Target("127.0.0.1", 9), 1, Duration.ofSeconds(20),
        16, 0, null, false, false, REQUESTS, TIMEOUT, 1, Duration.ZERO, 8, LoadOptions.NO_ERROR_LIMIT);
    vertx.runOnContext(v -> new BusyReplies(vertx, recorder, budget, options, replyAfterMs).run()
        .onComplete(test.succeeding(done -> test.verify(() -> {
          LoadRecorder.Counts counts = recorder.counts();
          if (replyAfterMs > TIMEOUT.toMillis()) {
            assertThat(counts.timeouts()).as("late replies").isEqualTo(REQUESTS);
            assertThat(counts.successes()).isZero();
          } else {
            assertThat(counts.successes()).as("replies in time").isEqualTo(REQUESTS);
            assertThat(counts.timeouts()).isZero();
          }
          test.completeNow();
        }))));
  }

  /** Answers each request itself, after keeping its event loop busy for {@code replyAfterMs}. */
  private static final class BusyReplies extends LoadWorker {
    private final long replyAfterNanos;

    BusyReplies(Vertx vertx, LoadRecorder recorder, RequestBudget budget, LoadOptions options, int replyAfterMs) {
      super(vertx, recorder, budget, options);
      this.replyAfterNanos = TimeUnit.MILLISECONDS.toNanos(replyAfterMs);
    }

    @Override
    protected void send(long gen) {
      // the loop is busy (a slow handler, a starved machine): neither the reply nor the timeout check can run
      long until = System.nanoTime() + replyAfterNanos;
      while (System.nanoTime() - until < 0) {
        Thread.onSpinWait();
      }
      // in the same turn of the loop, so the periodic timeout check cannot come first
      succeeded(gen);
    }

    @Override
    protected Future<Void> afterRequest(boolean ok) {
      return Future.succeededFuture();
    }

    @Override
    protected Future<Void> close() {
      return Future.succeededFuture();
    }
  }
}
