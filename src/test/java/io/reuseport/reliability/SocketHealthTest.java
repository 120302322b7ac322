package io.reuseport.reliability;

import io.netty.channel.unix.Socket;
import io.reuseport.server.InheritedSockets;
import io.reuseport.testsupport.Admin;
import io.reuseport.testsupport.ChildServer;
import io.reuseport.upgrade.Takeover;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

// Blocking by design: real processes take over, fail and get signals; the test waits on their output and exits.
/**
 * A serving instance whose UDP socket was changed behind its back (here: a peer that took the sockets over the
 * control socket connects one of them, as the old retirement did) no longer gets its clients' datagrams: readiness
 * says so, 503 naming the instance and the reason, logged once. The server is a real process; this test plays the
 * misbehaving peer and blocks on the child's output.
 */
@Timeout(90)
class SocketHealthTest {

  @TempDir
  Path dir;

  @Test
  void readinessNamesAnInstanceWhoseUdpSocketWasConnected() throws Exception {
    Path control = dir.resolve("control.sock");
    try (ChildServer server = ChildServer.start(dir, Map.of(), "--host", "127.0.0.1", "--port", "0",
        "--admin-host", "127.0.0.1", "--admin-port", "0", "--instances", "2", "--control-socket",
        control.toString())) {
      server.awaitReadyPort(60);
      server.awaitLine("control socket " + control, 30);
      int adminPort = server.adminPort();
      assertThat(Admin.get(adminPort, "/health/ready").statusCode()).isEqualTo(200);

      Takeover peer = Takeover.begin(control, 30_000);
      InheritedSockets sockets = peer.received().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      int udp = sockets.udpFds().get(0);
      new Socket(udp).connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), 9));

      HttpResponse<String> ready = Admin.get(adminPort, "/health/ready");
      while (ready.statusCode() == 200) {
        // poll pause on another process's readiness: the loop ends on the 503
        Thread.sleep(50);
        ready = Admin.get(adminPort, "/health/ready");
      }
      assertThat(ready.statusCode()).isEqualTo(503);
      JsonObject body = new JsonObject(ready.body());
      assertThat(body.getString("status")).isEqualTo("degraded");
      assertThat(body.getJsonArray("reasons").encode()).contains("instance 0").contains("connected to");
      server.awaitLine("is connected to", 10);
      // time for two more socket checks (one a second), to show they log nothing more: an absence has no event
      Thread.sleep(2_500);
      assertThat(server.output()).filteredOn(l -> l.contains("is connected to")).hasSize(1);

      peer.abort();
      peer.discardReceived();
      server.terminate();
      assertThat(server.awaitExit(60)).isZero();
    }
  }
}
