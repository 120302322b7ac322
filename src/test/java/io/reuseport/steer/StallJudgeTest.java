package io.reuseport.steer;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The watchdog's decisions on a given clock (milliseconds here, as nanoseconds). */
class StallJudgeTest {

  private static final long MS = 1_000_000;
  private static final long THRESHOLD = 300 * MS;
  private static final long RECOVERY = 900 * MS;

  @Test
  void anInstanceWithoutProgressForTheThresholdGoesOutOnceAndComesBackAfterRunningForTheRecoveryTime() {
    StallJudge judge = new StallJudge(2, THRESHOLD, RECOVERY);
    long[] stamps = {0, 0};
    long now = 0;
    // both stamp every 50 ms up to 1 s, then instance 1 stops for 2 s
    for (; now <= 1_000 * MS; now += 50 * MS) {
      stamps[0] = now;
      stamps[1] = now;
      assertThat(judge.check(now, stamps)).isEmpty();
    }
    long stalledAt = stamps[1];
    List<StallJudge.Change> out = null;
    for (; out == null || out.isEmpty(); now += 50 * MS) {
      stamps[0] = now;
      out = judge.check(now, stamps);
    }
    assertThat(out).containsExactly(new StallJudge.Change(1, true, (now - 50 * MS - stalledAt) / MS));
    assertThat(now - 50 * MS - stalledAt).isBetween(THRESHOLD, THRESHOLD + 50 * MS);
    for (; now < stalledAt + 2_000 * MS; now += 50 * MS) {
      stamps[0] = now;
      assertThat(judge.check(now, stamps)).as("logged once").isEmpty();
    }
    // running again: back only after 900 ms of progress
    long runningFrom = now;
    List<StallJudge.Change> back = List.of();
    for (; back.isEmpty(); now += 50 * MS) {
      stamps[0] = now;
      stamps[1] = now;
      back = judge.check(now, stamps);
    }
    assertThat(back).containsExactly(new StallJudge.Change(1, false, 0));
    assertThat(now - 50 * MS - runningFrom).isGreaterThanOrEqualTo(RECOVERY);
  }

  @Test
  void aShortGapUnderTheThresholdIsNotAStall() {
    StallJudge judge = new StallJudge(1, THRESHOLD, RECOVERY);
    long[] stamps = {0};
    for (long now = 0; now <= 2_000 * MS; now += 50 * MS) {
      if (now % (500 * MS) != 0) {
        stamps[0] = now - 200 * MS; // a loop busy for 200 ms at a time
      }
      assertThat(judge.check(now, stamps)).isEmpty();
    }
  }

  @Test
  void aPauseOfTheWholeProcessIsNotTakenForAStall() {
    StallJudge judge = new StallJudge(2, THRESHOLD, RECOVERY);
    long[] stamps = {0, 0};
    assertThat(judge.check(0, stamps)).isEmpty();
    // a 1 s pause stops the judge and the loops alike: every stamp is old when the judge runs again
    long now = 1_000 * MS;
    assertThat(judge.check(now, stamps)).isEmpty();
    // the loops stamp within the grace period that follows
    now += 50 * MS;
    stamps[0] = now;
    stamps[1] = now;
    assertThat(judge.check(now, stamps)).isEmpty();
    assertThat(judge.healthy()).containsOnly(true);
  }
}
