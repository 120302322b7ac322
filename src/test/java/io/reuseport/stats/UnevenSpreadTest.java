package io.reuseport.stats;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The uneven-spread warning: once per episode, not once per interval. */
class UnevenSpreadTest {

  private static final Fairness EVEN = Fairness.of(new long[] {250, 250, 250, 250});
  /** Jain's index 0.5: half the instances idle (the pinned UDP flows). */
  private static final Fairness HALF_IDLE = Fairness.of(new long[] {500, 0, 500, 0});
  private static final Fairness QUARTER_IDLE = Fairness.of(new long[] {400, 0, 300, 300});
  private static final Fairness TOO_FEW = Fairness.of(new long[] {10, 0, 0, 0});

  @Test
  void anEpisodeOfUnevenIntervalsIsReportedWhenItBeginsAndWhenItEndsOnly() {
    UnevenSpread spread = new UnevenSpread(0.8, 200);
    List<UnevenSpread.Change> changes = new ArrayList<>();
    Fairness[] intervals = {EVEN, HALF_IDLE, HALF_IDLE, QUARTER_IDLE, TOO_FEW, HALF_IDLE, HALF_IDLE, EVEN, EVEN,
        HALF_IDLE, EVEN};
    for (int second = 0; second < intervals.length; second++) {
      changes.add(spread.next(second * 1000L, intervals[second]));
    }
    assertThat(changes).containsExactly(UnevenSpread.Change.NONE, UnevenSpread.Change.BEGAN,
        UnevenSpread.Change.NONE, UnevenSpread.Change.NONE, UnevenSpread.Change.NONE, UnevenSpread.Change.NONE,
        UnevenSpread.Change.NONE, UnevenSpread.Change.ENDED, UnevenSpread.Change.NONE, UnevenSpread.Change.BEGAN,
        UnevenSpread.Change.ENDED);
    assertThat(HALF_IDLE.jain()).isEqualTo(0.5);
  }

  @Test
  void theEpisodeRemembersWhenItBeganAndItsLowestIndex() {
    UnevenSpread spread = new UnevenSpread(0.8, 200);
    spread.next(1_000, QUARTER_IDLE);
    spread.next(2_000, HALF_IDLE);
    assertThat(spread.uneven()).isTrue();
    assertThat(spread.beganAtMs()).isEqualTo(1_000);
    assertThat(spread.lowest()).isEqualTo(0.5);
  }

  @Test
  void tooSmallASampleNeitherBeginsNorEndsAnEpisode() {
    UnevenSpread spread = new UnevenSpread(0.8, 200);
    assertThat(spread.next(0, TOO_FEW)).isEqualTo(UnevenSpread.Change.NONE);
    assertThat(spread.uneven()).isFalse();
  }
}
