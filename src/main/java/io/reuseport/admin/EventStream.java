package io.reuseport.admin;

import io.reuseport.stats.StatsAddresses;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;

/**
 * {@code GET /events}: the collector's report every stats interval, as server-sent events. The first event comes at
 * once and carries the server's five-minute history (so a reopened page keeps it); a client too slow to keep up
 * skips reports rather than making the server buffer them.
 */
final class EventStream {

  private static final long FIRST_REPORT_TIMEOUT_MS = 2_000;
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
    Subscription subscription = new Subscription();
    response.closeHandler(v -> subscription.close());
    vertx.eventBus().<JsonObject>request(StatsAddresses.QUERY, new JsonObject().put("history", true),
            new DeliveryOptions().setSendTimeout(FIRST_REPORT_TIMEOUT_MS))
        .onComplete(first -> {
          if (subscription.closed) {
            return;
          }
          if (first.succeeded()) {
            send(response, first.result().body());
          }
          subscription.consumer = vertx.eventBus().localConsumer(StatsAddresses.REPORTS,
              msg -> send(response, msg.body()));
          response.exceptionHandler(err -> subscription.close());
        });
  }

  private static void send(HttpServerResponse response, JsonObject report) {
    if (!response.writeQueueFull()) {
      response.write("event: stats\ndata: " + report.encode() + "\n\n");
    }
  }

  /** One client's subscription to the reports; on the admin server's loop only. */
  private static final class Subscription {
    private boolean closed;
    private MessageConsumer<JsonObject> consumer;

    void close() {
      closed = true;
      if (consumer != null) {
        consumer.unregister();
      }
    }
  }
}
