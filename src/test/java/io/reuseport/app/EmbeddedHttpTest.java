package io.reuseport.app;

import io.reuseport.examples.EmbeddedHttpServer;
import io.vertx.core.Vertx;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An HTTP service handed to {@link ReusePortServer#deploy} ({@code ServerDeployOptions.setHttpService}): the docs'
 * vertx-web Router example serves from the caller's Vertx, and the docs show it as it is.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class EmbeddedHttpTest {

  static final Path DOCS = Path.of("docs/HTTP.md");

  @Test
  void theDocsRouterExampleServesFromTheCallersVertx(Vertx clients, VertxTestContext test) {
    WebClient web = WebClient.create(clients);
    EmbeddedHttpServer.deployGreetingApi().onComplete(test.succeeding(server -> {
      Vertx owned = server.vertx();
      web.get(server.port(), "127.0.0.1", "/hello/reader").send()
          .compose(response -> {
            test.verify(() -> {
              assertThat(response.statusCode()).isEqualTo(200);
              assertThat(response.bodyAsJsonObject().getString("greeting")).isEqualTo("Hello, reader!");
              assertThat(response.bodyAsJsonObject().getInteger("instance")).isBetween(0, 1);
            });
            return server.stop();
          })
          .compose(stopped -> owned.close())
          .onComplete(done -> {
            web.close();
            test.completeNow();
          });
    }));
  }

  @Test
  void theDocsShowTheExamplesAsTheyAre() throws Exception {
    String docs = Files.readString(DOCS);
    assertThat(docs).contains(tagged(Path.of("src/test/java/io/reuseport/examples/EmbeddedHttpServer.java"),
        "router").replaceAll("(?m)^  ", ""));
    assertThat(docs).contains(tagged(Path.of("src/test/java/io/reuseport/testkit/HttpServiceTest.java"),
        "http-test"));
  }

  /** The lines between {@code // tag::NAME[]} and {@code // end::NAME[]}. */
  static String tagged(Path source, String name) throws Exception {
    String text = Files.readString(source);
    String start = "// tag::" + name + "[]\n";
    int from = text.indexOf(start) + start.length();
    int to = text.lastIndexOf("\n", text.indexOf("// end::" + name + "[]")) + 1;
    return text.substring(from, to);
  }
}
