package io.reuseport.server;

import io.reuseport.app.RunningServer;
import io.reuseport.stats.KernelSockets;
import io.reuseport.testsupport.AsyncServers;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Counts the kernel's sockets on the port, not our objects.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class KernelSocketCountTest {

  @ParameterizedTest(name = "{0} instances")
  @ValueSource(ints = {2, 4})
  void reuseportBindsOneListenerAndOneUdpSocketPerInstance(int instances, VertxTestContext test) {
    whileRunning(test, new JsonObject().put("instances", instances), server -> {
      assertThat(KernelSockets.tcpListeners(server.port())).hasSize(instances);
      assertThat(KernelSockets.udpSockets(server.port())).hasSize(instances);
      assertThat(server.instances()).extracting(BoundInstance::eventLoop).doesNotHaveDuplicates();
    }, port -> {
      assertThat(KernelSockets.tcpListeners(port)).isEmpty();
      assertThat(KernelSockets.udpSockets(port)).isEmpty();
    });
  }

  @Test
  void sharedBindsOneListenerForAllInstances(VertxTestContext test) {
    whileRunning(test, new JsonObject().put("instances", 4).put("balancing", "shared"), server -> {
      assertThat(KernelSockets.tcpListeners(server.port())).hasSize(1);
      // Vert.x's DatagramSocket with SO_REUSEPORT on a native transport: one per instance
      assertThat(KernelSockets.udpSockets(server.port())).hasSize(4);
    }, port -> {
    });
  }

  @Test
  void sharedOnNioHasOneUdpSocket(VertxTestContext test) {
    whileRunning(test, new JsonObject().put("instances", 2).put("balancing", "shared").put("transport", "nio"),
        server -> {
          assertThat(server.transport()).isEqualTo("nio");
          assertThat(KernelSockets.tcpListeners(server.port())).hasSize(1);
          assertThat(KernelSockets.udpSockets(server.port())).hasSize(1);
        }, port -> {
        });
  }

  /** Starts a server, checks {@code running}, stops it (whatever the check said), then checks {@code stopped}. */
  private static void whileRunning(VertxTestContext test, JsonObject config, Consumer<RunningServer> running,
                                   Consumer<Integer> stopped) {
    AsyncServers.start(config).onComplete(test.succeeding(server -> {
      Throwable failed = null;
      try {
        running.accept(server);
      } catch (AssertionError | RuntimeException e) {
        failed = e;
      }
      Throwable runningFailure = failed;
      server.stop().onComplete(test.succeeding(v -> test.verify(() -> {
        if (runningFailure != null) {
          throw runningFailure;
        }
        stopped.accept(server.port());
        test.completeNow();
      })));
    }));
  }
}
