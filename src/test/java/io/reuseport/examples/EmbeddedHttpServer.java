package io.reuseport.examples;

import io.reuseport.app.ReusePortServer;
import io.reuseport.app.RunningServer;
import io.reuseport.app.ServerDeployOptions;
import io.reuseport.config.ConfigLoader;
import io.reuseport.config.ServerConfig;
import io.reuseport.service.HttpServiceProvider;
import io.reuseport.service.ServiceContext;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.core.transport.Transport;
import io.vertx.ext.web.Router;

/**
 * docs/HTTP.md's example of an HTTP API as a vertx-web Router, one per instance, served by the server embedded in a
 * Vertx of your own, word for word between the tags ({@code EmbeddedHttpTest} runs it and checks that the docs
 * still show it).
 */
public final class EmbeddedHttpServer {

  private EmbeddedHttpServer() {
  }

  // tag::router[]
  /** Your API: one Router per server instance, built on that instance's event loop. */
  public static final class GreetingApi implements HttpServiceProvider {
    @Override
    public String name() {
      return "greeting-api";
    }

    @Override
    public Future<Handler<HttpServerRequest>> create(ServiceContext context) {
      Router router = Router.router(context.vertx());
      router.get("/hello/:name").handler(rc -> rc.json(new JsonObject()
          .put("greeting", "Hello, " + rc.pathParam("name") + "!")
          .put("instance", context.instanceId())));
      return Future.succeededFuture(router);
    }
  }

  /** Your application's Vertx, hosting the API on loopback with its collector and admin server. */
  public static Future<RunningServer> deployGreetingApi() {
    Vertx vertx = Vertx.builder()
        .with(new VertxOptions().setEventLoopPoolSize(3)) // an event loop per instance, one for admin and stats
        .withTransport(Transport.EPOLL)                    // SO_REUSEPORT needs a native transport
        .build();
    ServerConfig config = ConfigLoader.fromJson(new JsonObject()
        .put("host", "127.0.0.1").put("port", 0).put("instances", 2)
        .put("adminHost", "127.0.0.1").put("adminPort", 0));
    return ReusePortServer.deploy(vertx, config, new ServerDeployOptions().setHttpService(new GreetingApi()));
  }
  // end::router[]
}
