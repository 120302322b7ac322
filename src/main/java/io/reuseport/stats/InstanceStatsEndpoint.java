package io.reuseport.stats;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;

/**
 * Sends one instance's counters over the event bus as an {@link InstanceSnapshot}: published every interval, and on
 * request. Registered from the instance's verticle, so both run on the instance's own event loop, where the counters
 * live.
 */
public final class InstanceStatsEndpoint {

  private final Vertx vertx;
  private final InstanceCounters counters;
  private MessageConsumer<Object> consumer;
  private long timer = -1;

  public InstanceStatsEndpoint(Vertx vertx, InstanceCounters counters) {
    this.vertx = vertx;
    this.counters = counters;
  }

  public Future<Void> start(long intervalMs) {
    InstanceSnapshotCodec.registerOn(vertx.eventBus());
    consumer = vertx.eventBus().localConsumer(StatsAddresses.instance(counters.instanceId),
        msg -> msg.reply(counters.snapshot()));
    timer = vertx.setPeriodic(intervalMs, id -> {
      counters.http.rollInterval();
      vertx.eventBus().publish(StatsAddresses.SNAPSHOTS, counters.snapshot());
    });
    return consumer.completion();
  }

  /** Marks the instance as draining and tells the collector at once, so that the drain is not taken for a stall. */
  public void draining() {
    counters.draining = true;
    vertx.eventBus().publish(StatsAddresses.SNAPSHOTS, counters.snapshot());
  }

  public Future<Void> stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    // a last snapshot, so that the collector has the final counts of this instance
    vertx.eventBus().publish(StatsAddresses.SNAPSHOTS, counters.snapshot());
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }
}
