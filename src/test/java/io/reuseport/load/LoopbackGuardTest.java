package io.reuseport.load;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LoopbackGuardTest {

  @Test
  void acceptsLoopbackLiteralsAndLocalhost() {
    assertThat(LoopbackGuard.check(Target.parse("127.0.0.1:9000"), false)).isEqualTo(new Target("127.0.0.1", 9000));
    assertThat(LoopbackGuard.check(Target.parse("127.1.2.3:9000"), false).host()).isEqualTo("127.1.2.3");
    assertThat(LoopbackGuard.check(Target.parse("[::1]:9000"), false).host()).isEqualTo("::1");
    assertThat(LoopbackGuard.check(Target.parse("localhost:9000"), false)).isEqualTo(new Target("127.0.0.1", 9000));
  }

  @Test
  void refusesEverythingElseUnlessAllowed() {
    for (String t : new String[] {"10.1.2.3:9000", "192.168.1.1:9000", "8.8.8.8:53", "example.com:80",
        "www.example.org:9000", "[2001:db8::1]:9000", "0.0.0.0:9000"}) {
      assertThatThrownBy(() -> LoopbackGuard.check(Target.parse(t), false))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("not a loopback address");
    }
    assertThat(LoopbackGuard.check(Target.parse("10.1.2.3:9000"), true).host()).isEqualTo("10.1.2.3");
  }

  @Test
  @Timeout(10)
  void commandRefusesRemoteTargetWithExit2BeforeAnyLoad() {
    for (String target : new String[] {"10.1.2.3:9000", "example.com:9000"}) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      int code = LoadCommand.run(new String[] {"--mode", "udp-echo", "--target", target, "--duration", "1s"},
          new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
      assertThat(code).isEqualTo(LoadCommand.EXIT_USAGE);
      assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
      // no progress line: the run never started
      assertThat(err.toString(StandardCharsets.UTF_8)).contains("refusing target").contains("--allow-remote")
          .doesNotContain("ok/s");
    }
  }

  @Test
  @Timeout(10)
  void commandRefusesRemoteAdminUrl() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = LoadCommand.run(new String[] {"--mode", "tcp-echo", "--target", "127.0.0.1:9000",
        "--admin", "http://10.1.2.3:8080"}, new PrintStream(new ByteArrayOutputStream()),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(code).isEqualTo(LoadCommand.EXIT_USAGE);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("refusing target");
  }
}
