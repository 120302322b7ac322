package io.reuseport.examples;

// tag::embed[]
import io.reuseport.app.ReusePortServer;
import io.reuseport.app.RunningServer;
import io.reuseport.app.ServerDeployOptions;
import io.reuseport.config.ConfigLoader;
import io.reuseport.config.ServerConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.transport.Transport;

/** Your application's Vertx, hosting an echo server on loopback with its stats collector and admin server. */
public final class EmbeddedServer {

  public static Future<RunningServer> deployEcho() {
    Vertx vertx = Vertx.builder()
        .with(new VertxOptions().setEventLoopPoolSize(3)) // an event loop per instance, one for admin and stats
        .withTransport(Transport.EPOLL)                    // SO_REUSEPORT needs a native transport
        .build();
    ServerConfig config = ConfigLoader.fromJson(new JsonObject()
        .put("host", "127.0.0.1").put("port", 0).put("instances", 2).put("service", "echo")
        .put("adminHost", "127.0.0.1").put("adminPort", 0));
    return ReusePortServer.deploy(vertx, config, new ServerDeployOptions().setAdminServer(true));
    // server.stop() drains and undeploys the server; vertx keeps running until you close it
  }

  public static void main(String[] args) {
    RunningServer server = deployEcho().await();
    System.out.println("echo on port " + server.port() + ", admin on port " + server.adminPort());
  }
}
// end::embed[]
