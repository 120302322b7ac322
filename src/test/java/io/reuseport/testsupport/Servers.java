package io.reuseport.testsupport;

import io.reuseport.app.ReusePortServer;
import io.reuseport.app.RunningServer;
import io.reuseport.config.ConfigLoader;
import io.reuseport.stats.InstanceSnapshot;
import io.reuseport.stats.StatsAddresses;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * Starts the real server in this JVM, on loopback and ephemeral ports.
 */
public final class Servers {

  private Servers() {
  }

  /** Defaults for tests: loopback, port 0, admin port 0, 2 instances; {@code overrides} win. */
  public static RunningServer start(JsonObject overrides) {
    JsonObject conf = new JsonObject()
        .put("host", "127.0.0.1")
        .put("port", 0)
        .put("adminHost", "127.0.0.1")
        .put("adminPort", 0)
        .put("instances", 2)
        .mergeIn(overrides);
    return ReusePortServer.start(ConfigLoader.fromJson(conf)).await();
  }

  /** A fresh snapshot of every instance's counters, asked over the event bus. */
  public static List<InstanceSnapshot> snapshots(RunningServer server) {
    List<InstanceSnapshot> all = new ArrayList<>();
    for (int id = 0; id < server.instances().size(); id++) {
      all.add((InstanceSnapshot) server.vertx().eventBus().request(StatsAddresses.instance(id), null).await()
          .body());
    }
    return all;
  }

  /** The sum of one counter over every instance, by its name in {@code /stats}, e.g. {@code ("tcp", "rejected")}. */
  public static long total(RunningServer server, String group, String counter) {
    return snapshots(server).stream().mapToLong(AsyncServers.byName(group, counter)).sum();
  }
}
