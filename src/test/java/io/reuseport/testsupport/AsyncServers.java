package io.reuseport.testsupport;

import io.reuseport.app.ReusePortServer;
import io.reuseport.app.RunningServer;
import io.reuseport.config.ConfigLoader;
import io.reuseport.stats.StatsAddresses;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * The real server in this JVM, for vertx-junit5 tests: every call returns a future, nothing blocks. The server runs
 * in a Vertx of its own (native transport, an event loop per instance); clients use the test's.
 */
public final class AsyncServers {

  private static final long POLL_MS = 20;

  private AsyncServers() {
  }

  /** The test configuration: loopback, port 0, admin port 0, 2 instances; {@code overrides} win. */
  public static JsonObject config(JsonObject overrides) {
    return new JsonObject()
        .put("host", "127.0.0.1")
        .put("port", 0)
        .put("adminHost", "127.0.0.1")
        .put("adminPort", 0)
        .put("instances", 2)
        .mergeIn(overrides);
  }

  /** Starts a server with the test configuration and {@code overrides}. */
  public static Future<RunningServer> start(JsonObject overrides) {
    try {
      return ReusePortServer.start(ConfigLoader.fromJson(config(overrides)));
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  /** A fresh snapshot of every instance's counters, asked over the server's event bus. */
  public static Future<List<JsonObject>> snapshots(RunningServer server) {
    List<Future<JsonObject>> asked = new ArrayList<>();
    for (int id = 0; id < server.instances().size(); id++) {
      asked.add(server.vertx().eventBus().<JsonObject>request(StatsAddresses.instance(id), null)
          .map(reply -> reply.body()));
    }
    return Future.all(asked).map(all -> all.<JsonObject>list());
  }

  /** The sum of one counter over every instance, e.g. {@code ("tcp", "rejected")}. */
  public static Future<Long> total(RunningServer server, String group, String counter) {
    return snapshots(server)
        .map(all -> all.stream().mapToLong(s -> s.getJsonObject(group).getLong(counter)).sum());
  }

  /**
   * Completes once the sum of a counter is {@code expected}: for what the server learns after the client (a close
   * it has not seen yet). Asks every {@value #POLL_MS} ms on a timer of {@code vertx}; the test's timeout bounds it.
   */
  public static Future<Void> awaitTotal(Vertx vertx, RunningServer server, String group, String counter,
                                        long expected) {
    Promise<Void> reached = Promise.promise();
    check(vertx, server, group, counter, expected, reached);
    return reached.future();
  }

  private static void check(Vertx vertx, RunningServer server, String group, String counter, long expected,
                            Promise<Void> reached) {
    total(server, group, counter).onComplete(asked -> {
      if (asked.failed()) {
        reached.fail(asked.cause());
      } else if (asked.result() == expected) {
        reached.complete();
      } else {
        vertx.setTimer(POLL_MS, t -> check(vertx, server, group, counter, expected, reached));
      }
    });
  }
}
