package io.reuseport.testsupport;

import io.reuseport.app.ReusePortServer;
import io.reuseport.app.RunningServer;
import io.reuseport.config.ConfigLoader;
import io.reuseport.stats.InstanceSnapshot;
import io.reuseport.stats.SnapshotJson;
import io.reuseport.stats.StatsAddresses;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongPredicate;
import java.util.function.ToLongFunction;

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
  public static Future<List<InstanceSnapshot>> snapshots(RunningServer server) {
    List<Future<InstanceSnapshot>> asked = new ArrayList<>();
    for (int id = 0; id < server.instances().size(); id++) {
      asked.add(server.vertx().eventBus().<InstanceSnapshot>request(StatsAddresses.instance(id), null)
          .map(reply -> reply.body()));
    }
    return Future.all(asked).map(all -> all.<InstanceSnapshot>list());
  }

  /** The sum of one counter over every instance, e.g. {@code s -> s.tcp().rejected()}. */
  public static Future<Long> total(RunningServer server, ToLongFunction<InstanceSnapshot> counter) {
    return snapshots(server).map(all -> all.stream().mapToLong(counter).sum());
  }

  /** The sum of one counter over every instance, by its name in {@code /stats}, e.g. {@code ("tcp", "rejected")}. */
  public static Future<Long> total(RunningServer server, String group, String counter) {
    return total(server, byName(group, counter));
  }

  /**
   * Completes once the sum of a counter is {@code expected}: for what the server learns after the client (a close
   * it has not seen yet). Asks every {@value #POLL_MS} ms on a timer of {@code vertx}; the test's timeout bounds it.
   */
  public static Future<Void> awaitTotal(Vertx vertx, RunningServer server, ToLongFunction<InstanceSnapshot> counter,
                                        long expected) {
    return awaitTotal(vertx, server, counter, total -> total == expected);
  }

  /** Completes once the sum of a counter passes {@code reached}, e.g. {@code total -> total >= 65_536}. */
  public static Future<Void> awaitTotal(Vertx vertx, RunningServer server, ToLongFunction<InstanceSnapshot> counter,
                                        LongPredicate reached) {
    Promise<Void> done = Promise.promise();
    check(vertx, server, counter, reached, done);
    return done.future();
  }

  /** {@link #awaitTotal(Vertx, RunningServer, ToLongFunction, long)} by the counter's name in {@code /stats}. */
  public static Future<Void> awaitTotal(Vertx vertx, RunningServer server, String group, String counter,
                                        long expected) {
    return awaitTotal(vertx, server, byName(group, counter), expected);
  }

  /** A counter by its name in {@code /stats}: {@code group} is {@code tcp} or {@code udp}. */
  static ToLongFunction<InstanceSnapshot> byName(String group, String counter) {
    return s -> (SnapshotJson.TCP.equals(group) ? SnapshotJson.tcp(s.tcp()) : SnapshotJson.udp(s.udp(), 0))
        .getLong(counter);
  }

  private static void check(Vertx vertx, RunningServer server, ToLongFunction<InstanceSnapshot> counter,
                            LongPredicate reached, Promise<Void> done) {
    total(server, counter).onComplete(asked -> {
      if (asked.failed()) {
        done.fail(asked.cause());
      } else if (reached.test(asked.result())) {
        done.complete();
      } else {
        vertx.setTimer(POLL_MS, t -> check(vertx, server, counter, reached, done));
      }
    });
  }
}
