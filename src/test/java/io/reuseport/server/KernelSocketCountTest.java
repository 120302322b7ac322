package io.reuseport.server;

import io.reuseport.stats.KernelSockets;
import io.reuseport.testsupport.Servers;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Counts the kernel's sockets on the port, not our objects.
 */
@Timeout(60)
class KernelSocketCountTest {

  @ParameterizedTest(name = "{0} instances")
  @ValueSource(ints = {2, 4})
  void reuseportBindsOneListenerAndOneUdpSocketPerInstance(int instances) {
    RunningServer server = Servers.start(new JsonObject().put("instances", instances));
    try {
      assertThat(KernelSockets.tcpListeners(server.port())).hasSize(instances);
      assertThat(KernelSockets.udpSockets(server.port())).hasSize(instances);
      assertThat(server.instances()).extracting(BoundInstance::eventLoop).doesNotHaveDuplicates();
    } finally {
      server.stop().await();
    }
    assertThat(KernelSockets.tcpListeners(server.port())).isEmpty();
    assertThat(KernelSockets.udpSockets(server.port())).isEmpty();
  }

  @Test
  void sharedBindsOneListenerForAllInstances() {
    RunningServer server = Servers.start(new JsonObject().put("instances", 4).put("balancing", "shared"));
    try {
      assertThat(KernelSockets.tcpListeners(server.port())).hasSize(1);
      // Vert.x's DatagramSocket with SO_REUSEPORT on a native transport: one per instance
      assertThat(KernelSockets.udpSockets(server.port())).hasSize(4);
    } finally {
      server.stop().await();
    }
  }

  @Test
  void sharedOnNioHasOneUdpSocket() {
    RunningServer server = Servers.start(new JsonObject().put("instances", 2).put("balancing", "shared")
        .put("transport", "nio"));
    try {
      assertThat(server.transport()).isEqualTo("nio");
      assertThat(KernelSockets.tcpListeners(server.port())).hasSize(1);
      assertThat(KernelSockets.udpSockets(server.port())).hasSize(1);
    } finally {
      server.stop().await();
    }
  }
}
