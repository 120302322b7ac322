package io.reuseport.admin;

import io.reuseport.stats.StatsAddresses;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;

/**
 * {@code GET /events}: the collector's report every stats interval, as server-sent events. A client too slow to
 * keep up skips reports rather than making the server buffer them.
 */
final class EventStream {

  private final Vertx vertx;

  EventStream(Vertx vertx) {
    this.vertx = vertx;
  }

  void open(HttpServerRequest req) {
    HttpServerResponse response = req.response()
        .setChunked(true)
        .putHeader("Content-Type", "text/event-stream")
        .putHeader("Cache-Control", "no-store")
        .putHeader("X-Accel-Buffering", "no");
    response.write("retry: 2000\n\n");
    MessageConsumer<JsonObject> consumer = vertx.eventBus().localConsumer(StatsAddresses.REPORTS, msg -> {
      if (!response.writeQueueFull()) {
        response.write("event: stats\ndata: " + msg.body().encode() + "\n\n");
      }
    });
    response.closeHandler(v -> consumer.unregister());
    response.exceptionHandler(err -> consumer.unregister());
  }
}
