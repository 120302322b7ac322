package io.reuseport.app;

import io.reuseport.config.ConfigLoader;
import io.reuseport.config.ServerConfig;
import io.reuseport.examples.EmbeddedServer;
import io.reuseport.server.BoundInstance;
import io.reuseport.server.StartupException;
import io.reuseport.stats.KernelSockets;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.transport.Transport;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link ReusePortServer#deploy}: the server in a Vertx the caller owns, which keeps running after the server stops;
 * a Vertx that cannot host it is refused with a failed future and nothing left deployed.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class DeployIntoVertxTest {

  @Test
  void theReadmeExampleServesAndStoppingLeavesTheVertxRunning(Vertx clients, VertxTestContext test) {
    EmbeddedServer.deployEcho().onComplete(test.succeeding(server -> {
      Vertx owned = server.vertx();
      echo(clients, server.port(), "hello")
          .compose(reply -> {
            test.verify(() -> assertThat(reply).isEqualTo("hello"));
            return clients.createHttpClient().request(HttpMethod.GET, server.adminPort(), "127.0.0.1", "/health/ready")
                .compose(request -> request.send())
                .map(response -> response.statusCode());
          })
          .compose(status -> {
            test.verify(() -> assertThat(status).isEqualTo(200));
            return server.stop();
          })
          .compose(stopped -> {
            test.verify(() -> {
              assertThat(owned.deploymentIDs()).as("what the server deployed is gone").isEmpty();
              assertThat(KernelSockets.tcpListeners(server.port())).isEmpty();
            });
            // still running: it can host the server again
            return ReusePortServer.deploy(owned, server.config().withPort(0));
          })
          .compose(again -> again.stop())
          .compose(stopped -> owned.close())
          .onComplete(test.succeedingThenComplete());
    }));
  }

  @Test
  void withoutCollectorAndAdminOnlyTheInstancesAreDeployed(VertxTestContext test) {
    Vertx vertx = epoll(2);
    ServerDeployOptions bare = new ServerDeployOptions().setStatsCollector(false).setAdminServer(false);
    ReusePortServer.deploy(vertx, config(2), bare).onComplete(test.succeeding(server -> {
      test.verify(() -> {
        assertThat(server.adminPort()).isEqualTo(-1);
        assertThat(vertx.deploymentIDs()).hasSize(2);
        assertThat(server.instances()).extracting(BoundInstance::eventLoop).doesNotHaveDuplicates();
      });
      server.stop().compose(v -> vertx.close()).onComplete(test.succeedingThenComplete());
    }));
  }

  @Test
  void tooFewEventLoopsFailsSayingHowManyAreNeeded(VertxTestContext test) {
    Vertx vertx = epoll(2);
    ReusePortServer.deploy(vertx, config(3)).onComplete(test.failing(err -> {
      test.verify(() -> {
        assertThat(err).isInstanceOf(StartupException.class)
            .hasMessageStartingWith("3 instances need 3 distinct event loops")
            .hasMessageContaining("this Vertx has 2")
            .hasMessageContaining("setEventLoopPoolSize(4)");
        assertThat(vertx.deploymentIDs()).isEmpty();
      });
      vertx.close().onComplete(test.succeedingThenComplete());
    }));
  }

  @Test
  void reuseportOnNioFailsNamingTheNativeTransport(Vertx nio, VertxTestContext test) {
    ReusePortServer.deploy(nio, config(1)).onComplete(test.failing(err -> test.verify(() -> {
      assertThat(err).isInstanceOf(StartupException.class)
          .hasMessageStartingWith("this Vertx runs the nio transport: reuseport balancing needs a native one")
          .hasMessageEndingWith("this Vertx was built without asking for one")
          .message().doesNotContain("null");
      assertThat(nio.deploymentIDs()).isEmpty();
      test.completeNow();
    })));
  }

  @Test
  void oneServerPerVertx(VertxTestContext test) {
    Vertx vertx = epoll(3);
    ReusePortServer.deploy(vertx, config(1)).onComplete(test.succeeding(first ->
        ReusePortServer.deploy(vertx, config(1)).onComplete(test.failing(err -> {
          test.verify(() -> assertThat(err).hasMessageStartingWith("this Vertx already hosts a reuseport server"));
          first.stop().compose(v -> vertx.close()).onComplete(test.succeedingThenComplete());
        }))));
  }

  private static Future<String> echo(Vertx vertx, int port, String text) {
    // kept until the exchange ends: Vert.x 5 closes a client nothing refers to when the GC runs
    NetClient client = vertx.createNetClient();
    return client.connect(port, "127.0.0.1").compose(socket -> {
      Buffer received = Buffer.buffer();
      Promise<String> reply = Promise.promise();
      socket.handler(data -> {
        received.appendBuffer(data);
        if (received.length() >= text.length()) {
          reply.tryComplete(received.toString());
          socket.close();
        }
      });
      return socket.write(text).compose(v -> reply.future());
    }).eventually(client::close);
  }

  private static Vertx epoll(int eventLoops) {
    return Vertx.builder().with(new VertxOptions().setEventLoopPoolSize(eventLoops))
        .withTransport(Transport.EPOLL).build();
  }

  private static ServerConfig config(int instances) {
    return ConfigLoader.fromJson(new JsonObject().put("host", "127.0.0.1").put("port", 0)
        .put("adminHost", "127.0.0.1").put("adminPort", 0).put("instances", instances));
  }
}
