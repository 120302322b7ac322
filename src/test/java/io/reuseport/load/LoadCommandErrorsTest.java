package io.reuseport.load;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** A wrong {@code load} option gets one clear line and exit code 2, before anything runs. */
class LoadCommandErrorsTest {

  @Test
  void anAdminAddressWithoutSchemeIsExplainedNotThrown() {
    String err = rejected("--mode", "tcp-churn", "--admin", "127.0.0.1:19090", "--max-requests", "1");
    assertThat(err).isEqualTo("load: --admin must be an http URL with a host, e.g. http://127.0.0.1:8080, not"
        + " '127.0.0.1:19090'; did you mean http://127.0.0.1:19090? (see load --help)\n");
  }

  @Test
  void anAdminUrlOfAnotherSchemeIsRefused() {
    assertThat(rejected("--mode", "tcp-churn", "--admin", "https://127.0.0.1:8080", "--max-requests", "1"))
        .startsWith("load: --admin must be an http URL with a host, e.g. http://127.0.0.1:8080, not"
            + " 'https://127.0.0.1:8080' (see");
  }

  @Test
  void aMisspeltOptionGetsPicocliSuggestion() {
    assertThat(rejected("--mode", "tcp-churn", "--concurency", "4", "--max-requests", "1"))
        .contains("Unknown options: '--concurency'").contains("; did you mean --concurrency");
  }

  private static String rejected(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = LoadCommand.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(code).as("exit code; stderr %s", err).isEqualTo(2);
    assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
    return err.toString(StandardCharsets.UTF_8);
  }
}
