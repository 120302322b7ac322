package io.reuseport.steer;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

/**
 * The watchdog's decisions on a given clock (milliseconds here, as nanoseconds), with the scheduler's view of each
 * loop's thread where a case needs it (cumulative time on a CPU and time waiting for one).
 */
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
    // bounded: a broken judge fails the assertions below instead of hanging the build
    for (; (out == null || out.isEmpty()) && now <= stalledAt + 2_000 * MS; now += 50 * MS) {
      stamps[0] = now;
      out = judge.check(now, stamps);
    }
    long silentMs = (now - 50 * MS - stalledAt) / MS;
    assertThat(out).containsExactly(new StallJudge.Change(1, true, silentMs, silentMs, -1, -1));
    assertThat(now - 50 * MS - stalledAt).isBetween(THRESHOLD, THRESHOLD + 50 * MS);
    for (; now < stalledAt + 2_000 * MS; now += 50 * MS) {
      stamps[0] = now;
      assertThat(judge.check(now, stamps)).as("logged once").isEmpty();
    }
    // running again: back only after 900 ms of progress
    long runningFrom = now;
    List<StallJudge.Change> back = List.of();
    for (; back.isEmpty() && now <= runningFrom + 5_000 * MS; now += 50 * MS) {
      stamps[0] = now;
      stamps[1] = now;
      back = judge.check(now, stamps);
    }
    assertThat(back).containsExactly(StallJudge.Change.back(1));
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

  @Test
  void aSafepointThatHoldsEveryLoopAndTheJudgeForLessThanTheThresholdIsNotAStall() {
    // what a starved JVM did: "Reaching safepoint" took up to 263 ms, and the judge's next check came ~280 ms late
    StallJudge judge = new StallJudge(2, THRESHOLD, RECOVERY);
    long[] stamps = {0, 0};
    long now = 0;
    for (; now <= 500 * MS; now += 50 * MS) {
      stamps[0] = now;
      stamps[1] = now;
      assertThat(judge.check(now, stamps)).isEmpty();
    }
    now += 280 * MS; // the last stamps are 330 ms old at this check: over the threshold by the wall clock
    assertThat(judge.check(now, stamps)).isEmpty();
    for (long end = now + 500 * MS; now < end; now += 50 * MS) {
      stamps[0] = now;
      stamps[1] = now;
      assertThat(judge.check(now, stamps)).isEmpty();
    }
  }

  @Test
  void aStampSeenOnlyAtALateCheckCountsNoMoreThanThatCheck() {
    // seen on the starved machine: instance 0 stamped 20 ms after a check, then waited for a CPU; the judge's next
    // check came 370 ms later, when that stamp was 350 ms old
    TwoLoops two = new TwoLoops();
    long now = 0;
    for (; now <= 500 * MS; now += 50 * MS) {
      assertThat(two.bothRunAndStamp(now, 0.9)).isEmpty();
    }
    now = 870 * MS;
    two.stamps[0] = 520 * MS;
    two.stamps[1] = 860 * MS;
    two.bothRun(370 * MS, 0.95);
    assertThat(two.check(now)).isEmpty();
  }

  @Test
  void aStuckLoopIsStillSeenWhenTheJudgeItselfRunsLate() {
    StallJudge judge = new StallJudge(2, THRESHOLD, RECOVERY);
    long[] stamps = {0, 0};
    assertThat(judge.check(0, stamps)).isEmpty();
    // the judge's thread gets a CPU only every 250 ms; instance 1 is stuck, instance 0 runs
    List<StallJudge.Change> out = List.of();
    long now = 0;
    while (out.isEmpty() && now < 10_000 * MS) {
      now += 250 * MS;
      stamps[0] = now;
      out = judge.check(now, stamps);
    }
    assertThat(out).extracting(StallJudge.Change::instance, StallJudge.Change::out).containsExactly(tuple(1, true));
    assertThat(now).as("each late check counts a third of the threshold").isEqualTo(1_000 * MS);
  }

  @Test
  void aLoopThatWaitsForACpuAsMuchAsTheOthersIsNotStalled() {
    // the whole machine starved: each loop waits for a CPU 95 % of the time it wants one; instance 1, with more
    // work per round, gets to its timer only every 1.5 s, instance 0 every 200 ms
    TwoLoops two = new TwoLoops();
    for (long now = 0; now <= 6_000 * MS; now += 50 * MS) {
      two.bothRun(50 * MS, 0.95);
      if (now % (200 * MS) == 0) {
        two.stamps[0] = now;
      }
      if (now % (1_500 * MS) == 0) {
        two.stamps[1] = now;
      }
      assertThat(two.check(now)).as("at %d ms", now / MS).isEmpty();
    }
  }

  @Test
  void aLoopThatAloneWaitsForACpuIsSteeredAround() {
    // instance 1's thread waits for a CPU all the time (pinned to a busy core, say); instance 0 has one to itself
    TwoLoops two = new TwoLoops();
    List<StallJudge.Change> out = List.of();
    long now = 0;
    for (; out.isEmpty() && now <= 2_000 * MS; now += 50 * MS) {
      two.loops[0].runnable(5 * MS, 0);
      two.loops[1].runnable(50 * MS, 1.0);
      two.stamps[0] = now;
      out = two.check(now);
    }
    assertThat(out).extracting(StallJudge.Change::instance, StallJudge.Change::out).containsExactly(tuple(1, true));
    assertThat(now - 50 * MS).isBetween(THRESHOLD, THRESHOLD + 100 * MS);
  }

  @Test
  void aStuckLoopOnAStarvedMachineGoesOutOnceItCouldHaveRunForTheThreshold() {
    // instance 1 spins in a handler and never gets back to its loop; like every thread it gets a CPU 10 % of the
    // time: it goes out once its 10 % add up to the threshold (3 s), not after 300 ms of waiting like everyone
    TwoLoops two = new TwoLoops();
    List<StallJudge.Change> out = List.of();
    long now = 0;
    for (; out.isEmpty() && now <= 10_000 * MS; now += 50 * MS) {
      two.bothRun(50 * MS, 0.9);
      if (now % (200 * MS) == 0) {
        two.stamps[0] = now;
      }
      out = two.check(now);
    }
    assertThat(out).hasSize(1);
    assertThat(out.get(0).instance()).isEqualTo(1);
    assertThat(out.get(0).stalledForMs()).isBetween(3_000L, 3_100L);
    assertThat(out.get(0).couldRunMs()).isBetween(300L, 310L);
  }

  @Test
  void aLongWaitForACpuThatTheKernelHasNotAddedUpYetIsSeenFromTheThreadBeingRunnable() {
    // both loops runnable and waiting for a CPU for 1 s in one stretch: the kernel's totals do not move until they
    // get one; then it adds the whole wait at once, which must not count twice
    TwoLoops two = new TwoLoops();
    long now = 0;
    for (; now <= 500 * MS; now += 50 * MS) {
      assertThat(two.bothRunAndStamp(now, 0.5)).isEmpty();
    }
    two.loops[0].waitingUnseen = true;
    two.loops[1].waitingUnseen = true;
    for (long end = now + 1_000 * MS; now < end; now += 50 * MS) {
      two.bothRun(50 * MS, 1.0);
      assertThat(two.check(now)).as("at %d ms", now / MS).isEmpty();
    }
    two.loops[0].waitingUnseen = false;
    two.loops[1].waitingUnseen = false;
    for (long end = now + 1_000 * MS; now < end; now += 50 * MS) {
      assertThat(two.bothRunAndStamp(now, 0.5)).isEmpty();
    }
  }

  @Test
  void aLoopAsleepWithoutStampingIsStuckEvenWhenTheOthersWait() {
    // instance 1 blocks in a call (asleep, not runnable): waiting elsewhere excuses nothing
    TwoLoops two = new TwoLoops();
    List<StallJudge.Change> out = List.of();
    long now = 0;
    for (; out.isEmpty() && now <= 2_000 * MS; now += 50 * MS) {
      two.loops[0].runnable(50 * MS, 0.9);
      two.loops[1].asleep();
      two.stamps[0] = now;
      out = two.check(now);
    }
    assertThat(out).extracting(StallJudge.Change::instance, StallJudge.Change::out).containsExactly(tuple(1, true));
    assertThat(out.get(0).ranMs()).isZero();
    assertThat(out.get(0).waitedMs()).isZero();
    assertThat(now - 50 * MS).isBetween(THRESHOLD, THRESHOLD + 100 * MS);
  }

  /** The judge of two instances, their loops' stamps and the scheduler's view of their threads. */
  private static final class TwoLoops {
    final StallJudge judge = new StallJudge(2, THRESHOLD, RECOVERY);
    final Loop[] loops = {new Loop(), new Loop()};
    final long[] stamps = {0, 0};

    /** Both loops runnable for {@code nanos}, waiting {@code waitingShare} of it for a CPU. */
    void bothRun(long nanos, double waitingShare) {
      loops[0].runnable(nanos, waitingShare);
      loops[1].runnable(nanos, waitingShare);
    }

    /** Both loops run for 50 ms (waiting {@code waitingShare} of it) and stamp at {@code now}; then a check. */
    List<StallJudge.Change> bothRunAndStamp(long now, double waitingShare) {
      bothRun(50 * MS, waitingShare);
      stamps[0] = now;
      stamps[1] = now;
      return check(now);
    }

    List<StallJudge.Change> check(long now) {
      return judge.check(now, stamps, times(loops));
    }
  }

  /** A loop's thread as the scheduler counts it. */
  private static final class Loop {
    long ran;
    long waited;
    /** Waiting for a CPU in one stretch: the kernel's total does not show it yet. */
    boolean waitingUnseen;
    long unseen;
    boolean runnable = true;

    /** Runnable for {@code nanos}, of which it waited {@code waitingShare} for a CPU. */
    void runnable(long nanos, double waitingShare) {
      runnable = true;
      long w = (long) (nanos * waitingShare);
      ran += nanos - w;
      if (waitingUnseen) {
        unseen += w;
      } else {
        waited += w + unseen;
        unseen = 0;
      }
    }

    void asleep() {
      runnable = false;
    }
  }

  private static LoopCpu.Times[] times(Loop[] loops) {
    LoopCpu.Times[] times = new LoopCpu.Times[loops.length];
    for (int i = 0; i < loops.length; i++) {
      times[i] = new LoopCpu.Times(loops[i].ran, loops[i].waited, loops[i].runnable);
    }
    return times;
  }
}
