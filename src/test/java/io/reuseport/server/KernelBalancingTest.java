package io.reuseport.server;

import io.reuseport.testsupport.Clients;
import io.reuseport.testsupport.Servers;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.DatagramSocket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The kernel picks the instance by 4-tuple: fresh source ports reach every instance, one flow sticks to one. Never an
 * even split: that is measured by the benchmarks, not asserted.
 */
@Timeout(120)
class KernelBalancingTest {

  private static final int INSTANCES = 4;
  private static final int MAX_ATTEMPTS = 2_000;
  private RunningServer server;

  @BeforeEach
  void start() {
    server = Servers.start(new JsonObject().put("instances", INSTANCES).put("service", "whoami"));
  }

  @AfterEach
  void stop() {
    server.stop().await();
  }

  @Test
  void freshConnectionsReachEveryInstanceEachOnItsOwnEventLoop() throws Exception {
    Map<Integer, Set<String>> threadsByInstance = new HashMap<>();
    for (int attempt = 0; attempt < MAX_ATTEMPTS && threadsByInstance.size() < INSTANCES; attempt++) {
      String[] who = Clients.whoamiTcp(server.port());
      threadsByInstance.computeIfAbsent(Integer.parseInt(who[0]), k -> new HashSet<>()).add(who[1]);
    }
    assertThat(threadsByInstance).as("instances that accepted").hasSize(INSTANCES);
    for (BoundInstance instance : server.instances()) {
      assertThat(threadsByInstance.get(instance.id()))
          .as("threads that ran instance %d's handler", instance.id())
          .containsExactly(instance.eventLoop());
    }
  }

  @Test
  void datagramsFromManySourcePortsReachEveryInstance() throws Exception {
    Set<Integer> seen = new HashSet<>();
    List<DatagramSocket> sockets = new ArrayList<>();
    try {
      for (int attempt = 0; attempt < MAX_ATTEMPTS && seen.size() < INSTANCES; attempt++) {
        DatagramSocket socket = Clients.udp();
        sockets.add(socket);
        String[] who = Clients.whoamiUdp(socket, server.port());
        seen.add(Integer.parseInt(who[0]));
        assertThat(who[1]).isEqualTo(server.instances().get(Integer.parseInt(who[0])).eventLoop());
        if (sockets.size() >= 64) {
          sockets.forEach(DatagramSocket::close);
          sockets.clear();
        }
      }
    } finally {
      sockets.forEach(DatagramSocket::close);
    }
    assertThat(seen).hasSize(INSTANCES);
  }

  @Test
  void oneFlowStaysOnOneInstance() throws Exception {
    Set<String> instances = new HashSet<>();
    try (DatagramSocket flow = Clients.udp()) {
      for (int i = 0; i < 200; i++) {
        instances.add(Clients.whoamiUdp(flow, server.port())[0]);
      }
    }
    assertThat(instances).as("instances that handled one flow's 200 datagrams").hasSize(1);
  }
}
