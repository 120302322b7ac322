package io.reuseport.admin;

import io.reuseport.config.ConfigLoader;
import io.reuseport.server.RunningServer;
import io.reuseport.server.ServerLauncher;
import io.reuseport.testsupport.Admin;
import io.reuseport.testsupport.Clients;
import io.reuseport.testsupport.GatedService;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Readiness: 503 while starting, 200 once every instance is bound, 503 again while draining; liveness stays 200.
 */
@Timeout(60)
class ReadinessTest {

  @Test
  void readyOnlyBetweenStartAndDrain() throws Exception {
    int adminPort;
    try (ServerSocket probe = new ServerSocket(0)) {
      adminPort = probe.getLocalPort();
    }
    GatedService.close();
    Future<RunningServer> starting = ServerLauncher.start(ConfigLoader.fromJson(new JsonObject()
        .put("host", "127.0.0.1").put("port", 0).put("adminHost", "127.0.0.1").put("adminPort", adminPort)
        .put("instances", 2).put("service", "gated").put("drainTimeoutSeconds", 20)));

    HttpResponse<String> whileStarting = awaitAdmin(adminPort);
    assertThat(whileStarting.statusCode()).isEqualTo(503);
    assertThat(new JsonObject(whileStarting.body()).getString("status")).isEqualTo("starting");
    assertThat(starting.isComplete()).isFalse();

    GatedService.open();
    RunningServer server = starting.await();
    assertThat(Admin.get(adminPort, AdminRoutes.READY).statusCode()).isEqualTo(200);
    assertThat(Admin.get(adminPort, AdminRoutes.LIVE).statusCode()).isEqualTo(200);

    // an open connection keeps the drain going while we look
    try (Socket open = Clients.connect(server.port())) {
      open.getOutputStream().write(1);
      assertThat(open.getInputStream().read()).isEqualTo(1);
      Future<Void> stopping = server.stop();
      HttpResponse<String> whileDraining = Admin.get(adminPort, AdminRoutes.READY);
      assertThat(whileDraining.statusCode()).isEqualTo(503);
      assertThat(new JsonObject(whileDraining.body()).getString("status")).isEqualTo("draining");
      assertThat(Admin.get(adminPort, AdminRoutes.LIVE).statusCode()).isEqualTo(200);
      // the open connection is still served during the drain
      open.getOutputStream().write(2);
      assertThat(open.getInputStream().read()).isEqualTo(2);
      open.close();
      stopping.await();
    }
  }

  /** The admin server comes up before the instances; wait (bounded by the test timeout) until it answers. */
  private static HttpResponse<String> awaitAdmin(int port) throws Exception {
    while (true) {
      try {
        return Admin.get(port, AdminRoutes.READY);
      } catch (java.net.ConnectException notYet) {
        Thread.sleep(20);
      }
    }
  }
}
