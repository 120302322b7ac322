package io.reuseport.server;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** How {@link FdBudget} divides a descriptor limit, and when lowering the cap is worth a warning. */
class FdBudgetTest {

  /** This machine's case: hard limit 20,000, the defaults (2 instances x 10,000, 64 admin connections). */
  @Test
  void theDefaultsUnderALimitOfTwentyThousandAreTrimmedWithoutAWarning() {
    FdBudget.Fit fit = new FdBudget.Fit(20_000, 120, 80, 3, 64, 2, 10_000);
    assertThat(fit.fits()).isFalse();
    assertThat(fit.forTheProcess()).isEqualTo(120 + 80 + 3 * FdBudget.PER_LOOP + FdBudget.HEADROOM);
    assertThat(fit.needed()).isEqualTo(20_000 + 64 + fit.forTheProcess());
    assertThat(fit.perInstance()).isEqualTo((20_000 - 64 - fit.forTheProcess()) / 2).isGreaterThan(9_000);
    assertThat(fit.reallyShort()).isFalse();
    assertThat(fit.message()).contains("file descriptor limit 20000", "2 instances x 10000 connections",
        "64 admin connections",
        "279 for the process (120 open now, 80 class path entries, 3 event loops x 5, 64 spare)",
        "serving at most 9828 connections per instance (98% of the configured 10000)", "raise the limit to 20343");
    assertThat(fit.shortMessage()).as("the info line at every default start")
        .isEqualTo("file descriptor limit 20000: serving at most 9828 connections per instance (configured 10000)")
        .hasSizeLessThan(100);
  }

  @Test
  void aLimitFarBelowTheCapsIsReallyShort() {
    FdBudget.Fit fit = new FdBudget.Fit(512, 100, 80, 3, 64, 2, 10_000);
    assertThat(fit.perInstance()).isEqualTo((512 - 64 - 100 - 80 - 15 - 64) / 2);
    assertThat(fit.reallyShort()).isTrue();
    assertThat(fit.message()).contains("serving at most 94 connections per instance (0% of the configured 10000)");
  }

  @Test
  void capsThatFitAreKept() {
    FdBudget.Fit fit = new FdBudget.Fit(1_048_576, 120, 80, 3, 64, 2, 10_000);
    assertThat(fit.fits()).isTrue();
    assertThat(fit.perInstance()).isEqualTo(10_000);
    assertThat(fit.reallyShort()).isFalse();
  }

  @Test
  void noRoomForOneConnectionPerInstance() {
    FdBudget.Fit fit = new FdBudget.Fit(300, 120, 80, 3, 64, 2, 10_000);
    assertThat(fit.perInstance()).isLessThan(1);
  }
}
