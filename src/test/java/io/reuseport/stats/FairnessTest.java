package io.reuseport.stats;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class FairnessTest {

  @Test
  void allEqualIsPerfectlyFair() {
    Fairness f = Fairness.of(new long[] {250, 250, 250, 250});
    assertThat(f.jain()).isEqualTo(1.0);
    assertThat(f.maxOverMin()).isEqualTo(1.0);
    assertThat(f.cv()).isEqualTo(0.0);
    assertThat(f.idle()).isEmpty();
    assertThat(f.sample()).isEqualTo(1000);
  }

  @Test
  void oneInstanceTakingAllGivesOneOverN() {
    Fairness f = Fairness.of(new long[] {0, 900, 0, 0});
    assertThat(f.jain()).isCloseTo(0.25, within(1e-12));
    assertThat(f.maxOverMin()).isNaN();
    assertThat(f.idle()).containsExactly(0, 2, 3);
    assertThat(f.toJson().getValue("maxOverMin")).isNull();
  }

  @Test
  void unevenSpread() {
    Fairness f = Fairness.of(new long[] {100, 300});
    // (400)^2 / (2 * (100^2 + 300^2)) = 160000 / 200000
    assertThat(f.jain()).isCloseTo(0.8, within(1e-12));
    assertThat(f.maxOverMin()).isCloseTo(3.0, within(1e-12));
    // mean 200, population standard deviation 100
    assertThat(f.cv()).isCloseTo(0.5, within(1e-12));
  }

  @Test
  void noWorkIsUndefinedNotUnfair() {
    Fairness f = Fairness.of(new long[] {0, 0, 0});
    assertThat(f.jain()).isNaN();
    assertThat(f.idle()).isEmpty();
    assertThat(f.toJson().getValue("jain")).isNull();
  }
}
