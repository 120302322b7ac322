package io.reuseport.server;

import io.reuseport.app.RunningServer;
import io.reuseport.testsupport.AsyncServers;
import io.reuseport.testsupport.VertxClients;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The kernel picks the instance by 4-tuple: fresh source ports reach every instance, one flow sticks to one. Never an
 * even split: that is measured by the benchmarks, not asserted.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class KernelBalancingTest {

  private static final int INSTANCES = 4;
  private static final int MAX_ATTEMPTS = 2_000;
  private RunningServer server;

  @BeforeEach
  void start(VertxTestContext test) {
    AsyncServers.start(new JsonObject().put("instances", INSTANCES).put("service", "whoami"))
        .onComplete(test.succeeding(started -> {
          server = started;
          test.completeNow();
        }));
  }

  @AfterEach
  void stop(VertxTestContext test) {
    server.stop().onComplete(test.succeedingThenComplete());
  }

  @Test
  void freshConnectionsReachEveryInstanceEachOnItsOwnEventLoop(Vertx vertx, VertxTestContext test) {
    Map<Integer, Set<String>> threadsByInstance = new HashMap<>();
    repeat(MAX_ATTEMPTS, () -> threadsByInstance.size() == INSTANCES,
        () -> VertxClients.whoamiTcp(vertx, server.port()).map(who -> threadsByInstance
            .computeIfAbsent(Integer.parseInt(who[0]), k -> new HashSet<>()).add(who[1])))
        .onComplete(test.succeeding(done -> test.verify(() -> {
          assertThat(threadsByInstance).as("instances that accepted").hasSize(INSTANCES);
          for (BoundInstance instance : server.instances()) {
            assertThat(threadsByInstance.get(instance.id()))
                .as("threads that ran instance %d's handler", instance.id())
                .containsExactly(instance.eventLoop());
          }
          test.completeNow();
        })));
  }

  @Test
  void datagramsFromManySourcePortsReachEveryInstance(Vertx vertx, VertxTestContext test) {
    Set<Integer> seen = new HashSet<>();
    // a socket of its own per attempt: a fresh source port each time
    repeat(MAX_ATTEMPTS, () -> seen.size() == INSTANCES,
        () -> VertxClients.Udp.open(vertx).compose(udp -> udp.whoami(server.port())
            .andThen(asked -> udp.close())
            .map(who -> {
              int id = Integer.parseInt(who[0]);
              test.verify(() -> assertThat(who[1]).isEqualTo(server.instances().get(id).eventLoop()));
              return seen.add(id);
            })))
        .onComplete(test.succeeding(done -> test.verify(() -> {
          assertThat(seen).hasSize(INSTANCES);
          test.completeNow();
        })));
  }

  @Test
  void oneFlowStaysOnOneInstance(Vertx vertx, VertxTestContext test) {
    Set<String> instances = new HashSet<>();
    VertxClients.Udp.open(vertx)
        .compose(flow -> repeat(200, () -> false,
            () -> flow.whoami(server.port()).map(who -> instances.add(who[0])))
            .andThen(done -> flow.close()))
        .onComplete(test.succeeding(done -> test.verify(() -> {
          assertThat(instances).as("instances that handled one flow's 200 datagrams").hasSize(1);
          test.completeNow();
        })));
  }

  /** Runs {@code step} one after the other until {@code done} or {@code max} times. */
  private static Future<Void> repeat(int max, BooleanSupplier done, Supplier<Future<?>> step) {
    if (max == 0 || done.getAsBoolean()) {
      return Future.succeededFuture();
    }
    return step.get().compose(v -> repeat(max - 1, done, step));
  }
}
