package io.reuseport.server;

import io.netty.channel.Channel;
import io.reuseport.netty.NettyFutures;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.util.function.BooleanSupplier;

/**
 * Small waits of the drain, on the caller's event loop.
 */
final class Drain {

  private static final long POLL_MS = 50;

  private Drain() {
  }

  /** Completes with true once {@code done} holds, or with false after {@code timeoutMs}. */
  static Future<Boolean> until(Vertx vertx, BooleanSupplier done, long timeoutMs) {
    Promise<Boolean> promise = Promise.promise();
    if (done.getAsBoolean()) {
      promise.complete(true);
      return promise.future();
    }
    long deadline = System.nanoTime() + timeoutMs * 1_000_000;
    vertx.setPeriodic(POLL_MS, id -> {
      if (done.getAsBoolean()) {
        vertx.cancelTimer(id);
        promise.tryComplete(true);
      } else if (System.nanoTime() - deadline >= 0) {
        vertx.cancelTimer(id);
        promise.tryComplete(false);
      }
    });
    return promise.future();
  }

  /** Closes a Netty channel; the future completes when it is closed. */
  static Future<Void> close(Channel channel) {
    return NettyFutures.close(channel);
  }

  /** Takes a Netty channel off its event loop without closing it; the future completes when it is off. */
  static Future<Void> deregister(Channel channel) {
    return NettyFutures.of(channel.deregister()).mapEmpty();
  }
}
