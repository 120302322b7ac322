package io.reuseport.load;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LoadOptionsTest {

  @Test
  void parsesDurations() {
    assertThat(LoadOptions.parseDuration("10s")).isEqualTo(Duration.ofSeconds(10));
    assertThat(LoadOptions.parseDuration("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(LoadOptions.parseDuration("1.5s")).isEqualTo(Duration.ofMillis(1500));
    assertThat(LoadOptions.parseDuration("2m")).isEqualTo(Duration.ofMinutes(2));
    assertThat(LoadOptions.parseDuration("3")).isEqualTo(Duration.ofSeconds(3));
    assertThatThrownBy(() -> LoadOptions.parseDuration("soon")).hasMessageContaining("not a duration");
  }

  @Test
  void parsesTargets() {
    assertThat(Target.parse("127.0.0.1:9000")).isEqualTo(new Target("127.0.0.1", 9000));
    assertThat(Target.parse("[::1]:9000")).isEqualTo(new Target("::1", 9000));
    assertThat(Target.parse("[::1]:9000").toString()).isEqualTo("[::1]:9000");
    assertThatThrownBy(() -> Target.parse("127.0.0.1")).hasMessageContaining("host:port");
    assertThatThrownBy(() -> Target.parse("127.0.0.1:0")).hasMessageContaining("out of range");
  }

  @Test
  void refusesOutOfRangeValues() {
    Target t = new Target("127.0.0.1", 9000);
    assertThatThrownBy(() -> new LoadOptions(LoadMode.TCP_ECHO, t, 0, Duration.ofSeconds(1), 64, 0, null, false,
        false, 0, Duration.ofSeconds(1), 1, Duration.ZERO, 8, -1)).hasMessageContaining("--concurrency");
    assertThatThrownBy(() -> new LoadOptions(LoadMode.TCP_ECHO, t, 1, Duration.ZERO, 64, 0, null, false,
        false, 0, Duration.ofSeconds(1), 1, Duration.ZERO, 8, -1)).hasMessageContaining("--duration");
    assertThatThrownBy(() -> new LoadOptions(LoadMode.TCP_ECHO, t, 1, Duration.ofSeconds(1), 64, 0, null, false,
        false, 0, Duration.ofSeconds(1), 1, Duration.ZERO, -1, -1)).hasMessageContaining("--connect-retries");
    assertThatThrownBy(() -> new LoadOptions(LoadMode.TCP_ECHO, t, 1, Duration.ofSeconds(1), 64, 0, null, false,
        false, 0, Duration.ofSeconds(1), 1, Duration.ZERO, 8, 1.5)).hasMessageContaining("--max-error-rate");
    assertThatThrownBy(() -> LoadMode.parse("http")).hasMessageContaining("tcp-churn, tcp-echo, udp-echo");
  }

  @Test
  void parsesErrorRatesAsFractionsOrPercentages() {
    assertThat(LoadOptions.parseRate("0.05")).isEqualTo(0.05);
    assertThat(LoadOptions.parseRate("5%")).isEqualTo(0.05);
    assertThat(LoadOptions.parseRate("0")).isZero();
    assertThat(LoadOptions.parseRate("100%")).isEqualTo(1.0);
    assertThatThrownBy(() -> LoadOptions.parseRate("5")).hasMessageContaining("--max-error-rate");
    assertThatThrownBy(() -> LoadOptions.parseRate("-1%")).hasMessageContaining("--max-error-rate");
    assertThatThrownBy(() -> LoadOptions.parseRate("some")).hasMessageContaining("--max-error-rate");
  }

  @Test
  void backOffDoublesFromTwentyMillisecondsUpToOneSecond() {
    assertThat(RetryBackoff.ceilingMs(1)).isEqualTo(20);
    assertThat(RetryBackoff.ceilingMs(2)).isEqualTo(40);
    assertThat(RetryBackoff.ceilingMs(6)).isEqualTo(640);
    assertThat(RetryBackoff.ceilingMs(7)).isEqualTo(1_000);
    assertThat(RetryBackoff.ceilingMs(1_000)).isEqualTo(1_000);
    for (int failures = 1; failures < 12; failures++) {
      assertThat(RetryBackoff.delayMs(failures)).isBetween(RetryBackoff.ceilingMs(failures) / 2,
          RetryBackoff.ceilingMs(failures));
    }
  }

  @Test
  void spreadsTheRateOverWorkers() {
    LoadOptions o = new LoadOptions(LoadMode.UDP_ECHO, new Target("127.0.0.1", 9000), 10, Duration.ofSeconds(1), 64,
        1000, null, false, false, 0, Duration.ofSeconds(1), 1, Duration.ZERO, 8, -1);
    assertThat(o.workerIntervalNanos()).isEqualTo(10_000_000L);
  }
}
