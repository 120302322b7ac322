package io.reuseport.load;

import io.reuseport.admin.AdminRoutes;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads one counter per server instance from the admin server's {@code GET /stats?fresh=true}
 * ({@code instances[].id} and e.g. {@code instances[].tcp.accepted}), with the identity of the process that
 * answered ({@code process.pid}, {@code process.startedAt}): after a takeover or a restart the port is served by
 * another process, whose counters started again from zero.
 */
final class AdminStatsProbe {

  private static final long TIMEOUT_MS = 5_000;

  private final HttpClient client;
  private final String statsUrl;
  private final LoadMode mode;

  AdminStatsProbe(Vertx vertx, URI admin, LoadMode mode) {
    // two requests a run, minutes apart: a fresh connection each, never a pooled one the server may have closed
    this.client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false));
    String base = admin.toString();
    String root = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    this.statsUrl = root + AdminRoutes.STATS + "?fresh=true";
    this.mode = mode;
  }

  /** One answer: the process that gave it ({@code null} from a server that does not say) and its counters. */
  record Reading(String process, Map<String, Long> counters) {
  }

  /** The counter of this mode per instance id, and who counted. */
  Future<Reading> read() {
    RequestOptions request = new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(statsUrl)
        .setConnectTimeout(TIMEOUT_MS).setIdleTimeout(TIMEOUT_MS);
    // the body is asked for in the same callback as the response, so none of it can arrive before a handler is set
    return client.request(request)
        .compose(req -> req.send().compose(this::body))
        .map(body -> {
          JsonObject stats = new JsonObject(body);
          return new Reading(process(stats), counters(stats, mode));
        });
  }

  Future<Void> close() {
    return client.close();
  }

  private Future<String> body(HttpClientResponse response) {
    if (response.statusCode() != 200) {
      return Future.failedFuture("GET " + statsUrl + " answered " + response.statusCode());
    }
    return response.body().map(b -> b.toString());
  }

  /** {@code "pid N started T"} from {@code /stats}' {@code process}, or null when it has none. */
  static String process(JsonObject stats) {
    JsonObject process = stats.getJsonObject("process");
    return process == null ? null : "pid " + process.getValue("pid") + " started " + process.getValue("startedAt");
  }

  /** Extracts {@code instances[].<section>.<field>} by {@code instances[].id}; absent counters read as 0. */
  static Map<String, Long> counters(JsonObject stats, LoadMode mode) {
    JsonArray instances = stats.getJsonArray("instances");
    if (instances == null) {
      throw new IllegalArgumentException("/stats has no 'instances' array");
    }
    Map<String, Long> out = new LinkedHashMap<>();
    for (int i = 0; i < instances.size(); i++) {
      JsonObject instance = instances.getJsonObject(i);
      JsonObject section = instance.getJsonObject(mode.statsSection(), new JsonObject());
      Number value = section.getNumber(mode.statsField(), 0);
      out.put(String.valueOf(instance.getValue("id", i)), value.longValue());
    }
    return out;
  }
}
