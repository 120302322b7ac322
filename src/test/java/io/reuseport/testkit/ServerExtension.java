package io.reuseport.testkit;

import io.reuseport.app.ReusePortServer;
import io.reuseport.app.RunningServer;
import io.reuseport.config.ConfigLoader;
import io.vertx.core.json.JsonObject;
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
 * Resolves {@link RunningServer} parameters. Blocks only the JUnit thread, never an event loop.
 */
public final class ServerExtension implements BeforeEachCallback, AfterEachCallback, ParameterResolver {

  private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(ServerExtension.class);
  private static final String SERVER = "server";
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
        .mergeIn(new JsonObject(wanted.config()));
    RunningServer server = ReusePortServer.start(ConfigLoader.fromJson(config)).await(START_SECONDS, TimeUnit.SECONDS);
    context.getStore(NAMESPACE).put(SERVER, server);
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    RunningServer server = context.getStore(NAMESPACE).remove(SERVER, RunningServer.class);
    if (server != null) {
      server.stop().await(STOP_SECONDS, TimeUnit.SECONDS);
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == RunningServer.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    RunningServer server = context.getStore(NAMESPACE).get(SERVER, RunningServer.class);
    if (server == null) {
      throw new ParameterResolutionException("no server: RunningServer parameters are for test methods only");
    }
    return server;
  }
}
