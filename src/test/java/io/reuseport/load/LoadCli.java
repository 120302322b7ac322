package io.reuseport.load;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs the {@code load} command in this JVM with {@code --json} and hands back its one JSON line as a future; the
 * command itself blocks, on a plain thread.
 */
final class LoadCli {

  private LoadCli() {
  }

  /**
   * Runs the command on a plain thread (it blocks on a Vertx of its own, which Vert.x refuses on its worker
   * threads) and completes on a context of {@code vertx}; fails when the exit code is not {@code expectedExit}.
   */
  static Future<JsonObject> runAsync(Vertx vertx, int expectedExit, String... args) {
    CompletableFuture<JsonObject> run = CompletableFuture.supplyAsync(() -> run(expectedExit, args));
    return Future.fromCompletionStage(run, vertx.getOrCreateContext());
  }

  private static JsonObject run(int expectedExit, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    String[] withJson = Arrays.copyOf(args, args.length + 1);
    withJson[args.length] = "--json";
    int code = LoadCommand.run(withJson, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    String text = out.toString(StandardCharsets.UTF_8).trim();
    assertThat(code).as("exit code; stdout: %s; stderr: %s", text, err.toString(StandardCharsets.UTF_8))
        .isEqualTo(expectedExit);
    assertThat(text.lines().count()).as("one JSON line on stdout: %s", text).isEqualTo(1);
    return new JsonObject(text);
  }
}
