package io.reuseport.testkit;

import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Runs each test against a real server on loopback, started before and drained after it, serving {@link #service}.
 * Put it on the test class (or on one method, which then wins); declare a
 * {@link io.reuseport.app.RunningServer} parameter to get the server: its {@code port()}, {@code adminPort()},
 * {@code vertx()}; and a {@link io.vertx.core.net.NetClient} parameter for a client whose life the kit manages
 * (kept for the whole test, closed with its connections after it). Its drain waits at most 2 s for a connection the
 * test left open ({@code drainTimeoutSeconds} in {@link #config} to change it).
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(ServerExtension.class)
public @interface ServerUnderTest {

  /**
   * The service's name, as its {@code ServiceProvider} or {@code HttpServiceProvider} (listed in
   * {@code META-INF/services}) gives it: a byte service or an HTTP service, e.g. {@code hello-http}.
   */
  String service();

  /** Instances, each on its own event loop with its own sockets. */
  int instances() default 2;

  /** Further settings as JSON with the keys of {@code conf/config.json}, e.g. {@code {"idleTimeoutSeconds": 1}}. */
  String config() default "{}";
}
