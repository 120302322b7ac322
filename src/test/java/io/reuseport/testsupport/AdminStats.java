package io.reuseport.testsupport;

import io.reuseport.admin.AdminRoutes;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.core.parsetools.RecordParser;

import java.util.function.Predicate;

/**
 * The server's {@code /stats} document as vertx-junit5 tests read it: from the admin port, over the test's
 * {@link HttpClient}, every call a future. It is what an operator reads, so the tests depend on nothing else.
 */
public final class AdminStats {

  private static final String DATA = "data: ";

  private AdminStats() {
  }

  /** {@code GET /stats?fresh=true}: every instance asked now and the kernel's view of the port re-read. */
  public static Future<JsonObject> fresh(HttpClient http, int adminPort) {
    return VertxClients.get(http, adminPort, AdminRoutes.STATS + "?fresh=true").compose(answer ->
        answer.status() == 200
            ? Future.succeededFuture(new JsonObject(answer.body()))
            : Future.failedFuture("/stats answered " + answer.status() + ": " + answer.body()));
  }

  /** One counter summed over the instances, e.g. {@code total(stats, "tcp", "rejected")}. */
  public static long total(JsonObject stats, String group, String counter) {
    return stats.getJsonObject("totals").getJsonObject(group).getLong(counter);
  }

  /** Whether instance {@code id} is marked stale in the report. */
  public static boolean stale(JsonObject stats, int id) {
    return stats.getJsonArray("instances").getJsonObject(id).getBoolean("stale");
  }

  /**
   * The first report of {@code GET /events} for which {@code until} holds. The server pushes one report per stats
   * interval (the first at once): this waits on the collector's own tick, for what the server learns after the
   * client (a close it has not seen yet, a loop that stopped answering). The test's timeout bounds it.
   */
  public static Future<JsonObject> awaitReport(HttpClient http, int adminPort, Predicate<JsonObject> until) {
    return http.request(HttpMethod.GET, adminPort, VertxClients.LOOPBACK, AdminRoutes.EVENTS)
        .compose(request -> request.send().compose(response -> {
          Promise<JsonObject> found = Promise.promise();
          response.handler(RecordParser.newDelimited("\n\n", event -> {
            for (String line : event.toString().split("\n")) {
              if (line.startsWith(DATA) && !found.future().isComplete()) {
                JsonObject report = new JsonObject(line.substring(DATA.length()));
                try {
                  if (until.test(report)) {
                    found.tryComplete(report);
                  }
                } catch (RuntimeException e) {
                  found.tryFail(e);
                }
              }
            }
          }));
          response.exceptionHandler(found::tryFail);
          response.endHandler(v -> found.tryFail("the event stream ended"));
          // the stream never ends by itself: closing its connection unsubscribes
          return found.future().andThen(done -> request.connection().close());
        }));
  }
}
