package io.reuseport.testkit;

import io.reuseport.app.ReusePortServer;
import io.reuseport.app.RunningServer;
import io.reuseport.config.ConfigLoader;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

import java.util.concurrent.TimeUnit;

/**
 * Starts the server a {@link ServerUnderTest} describes before each test, on 127.0.0.1 with ephemeral ports (port
 * 0, admin port 0) in a Vertx of its own, exactly as {@code java -jar} would; drains and stops it after the test.
 * Resolves {@link RunningServer} parameters, and {@link NetClient} parameters: a client on a Vertx of the kit's own
 * (one event loop, not the server's), which the kit keeps for the whole test and closes after it, with every
 * connection it opened, before the server drains. A client the test creates itself must be kept in a variable
 * and closed: Vert.x 5 closes a client nothing refers to any more when the GC runs, connections and all, and the
 * drain waits for a connection nobody closes (the kit's {@code drainTimeoutSeconds} is 2 s, not 30). Blocks only
 * the JUnit thread, never an event loop.
 */
public final class ServerExtension implements BeforeEachCallback, AfterEachCallback, ParameterResolver {

  private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(ServerExtension.class);
  private static final String SERVER = "server";
  private static final String CLIENTS = "clients";
  /** A drain waits at most this long for connections a test left open; settings in {@code config} win. */
  static final int DRAIN_TIMEOUT_SECONDS = 2;
  private static final long START_SECONDS = 30;
  private static final long STOP_SECONDS = 60;

  @Override
  public void beforeEach(ExtensionContext context) throws Exception {
    ServerUnderTest wanted = AnnotationSupport.findAnnotation(context.getRequiredTestMethod(), ServerUnderTest.class)
        .or(() -> AnnotationSupport.findAnnotation(context.getRequiredTestClass(), ServerUnderTest.class))
        .orElseThrow(() -> new IllegalStateException("ServerExtension needs @ServerUnderTest on the test"));
    JsonObject config = new JsonObject()
        .put("host", "127.0.0.1")
        .put("port", 0)
        .put("adminHost", "127.0.0.1")
        .put("adminPort", 0)
        .put("service", wanted.service())
        .put("instances", wanted.instances())
        .put("drainTimeoutSeconds", DRAIN_TIMEOUT_SECONDS)
        .mergeIn(new JsonObject(wanted.config()));
    RunningServer server = ReusePortServer.start(ConfigLoader.fromJson(config)).await(START_SECONDS, TimeUnit.SECONDS);
    context.getStore(NAMESPACE).put(SERVER, server);
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    Vertx clients = context.getStore(NAMESPACE).remove(CLIENTS, Vertx.class);
    if (clients != null) {
      // first: the server's drain then has no connection of the kit's clients to wait for
      clients.close().await(STOP_SECONDS, TimeUnit.SECONDS);
    }
    RunningServer server = context.getStore(NAMESPACE).remove(SERVER, RunningServer.class);
    if (server != null) {
      server.stop().await(STOP_SECONDS, TimeUnit.SECONDS);
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    return type == RunningServer.class || type == NetClient.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    RunningServer server = context.getStore(NAMESPACE).get(SERVER, RunningServer.class);
    if (server == null) {
      throw new ParameterResolutionException("no server: RunningServer and NetClient parameters are for test methods"
          + " only");
    }
    if (parameter.getParameter().getType() == NetClient.class) {
      return context.getStore(NAMESPACE)
          .getOrComputeIfAbsent(CLIENTS, key -> Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1)), Vertx.class)
          .createNetClient();
    }
    return server;
  }
}
