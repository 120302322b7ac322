package io.reuseport.testkit;

import io.reuseport.app.RunningServer;
import io.vertx.core.Vertx;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The test kit with an HTTP service, as docs/HTTP.md shows it (word for word between the tags; {@code
 * EmbeddedHttpTest}'s sibling check keeps the docs honest): a real server per test, a Vert.x WebClient on the test's
 * Vertx, closed after each test.
 */
// tag::http-test[]
@ExtendWith(VertxExtension.class)
@ServerUnderTest(service = "hello-http", instances = 2)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class HttpServiceTest {

  private WebClient web;

  @AfterEach
  void closeClient() {
    web.close();
  }

  @Test
  void plaintextSaysHello(RunningServer server, Vertx vertx, VertxTestContext test) {
    web = WebClient.create(vertx);
    web.get(server.port(), "127.0.0.1", "/plaintext").send()
        .onComplete(test.succeeding(response -> test.verify(() -> {
          assertThat(response.statusCode()).isEqualTo(200);
          assertThat(response.bodyAsString()).isEqualTo("Hello, World!");
          test.completeNow();
        })));
  }
}
// end::http-test[]
