package io.reuseport.steer;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Several blocking clients at once, each repeating its attempt (a fresh connection or flow, say) one after the other
 * while a condition holds, typically "the stall has not ended yet": what the steering tests measure during a stall.
 * Bounded: each client is waited for {@code maxMs} at most, then the threads are interrupted.
 */
final class ConcurrentAttempts {

  private ConcurrentAttempts() {
  }

  /** Every attempt's result, from all the clients, in no particular order. */
  static <T> List<T> repeat(int clients, long maxMs, BooleanSupplier goOn, Supplier<T> attempt) throws Exception {
    Queue<T> all = new ConcurrentLinkedQueue<>();
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    try {
      List<Future<?>> running = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        running.add(pool.submit(() -> {
          while (goOn.getAsBoolean()) {
            all.add(attempt.get());
          }
          return null;
        }));
      }
      for (Future<?> f : running) {
        f.get(maxMs, TimeUnit.MILLISECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    return new ArrayList<>(all);
  }
}
