package io.reuseport.steer;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The busy share from recorded scheduler times and heartbeats: no threads, no clock. */
class LoopLoadTest {

  private static final long MS = 1_000_000;
  private static final long LATE = 100 * MS;

  @Test
  void aLoopOnACpuOrWaitingForOneIsBusyAndOneAsleepIsNot() {
    LoopLoad load = new LoopLoad(3);
    long[] stamps = {0, 0, 0};
    load.sample(0, times(0, 0, 0, 0, 0, 0), stamps, LATE);
    double[] busy = {};
    // every 50 ms for 2 s: loop 0 runs throughout, loop 1 waits for a CPU half the time and runs a quarter,
    // loop 2 runs a tenth
    for (long t = 50; t <= 2_000; t += 50) {
      stamps = new long[] {t * MS, t * MS, t * MS};
      busy = load.sample(t * MS, times(t, 0, t / 4, t / 2, t / 10, 0), stamps, LATE);
    }
    assertThat(busy[0]).isCloseTo(1.0, within(0.01));
    assertThat(busy[1]).isCloseTo(0.75, within(0.01));
    assertThat(busy[2]).isCloseTo(0.10, within(0.01));
  }

  @Test
  void aLoopBlockedOffTheCpuWithALateHeartbeatCountsAsFullyBusy() {
    LoopLoad load = new LoopLoad(2);
    load.sample(0, times(0, 0, 0, 0), new long[] {0, 0}, LATE);
    // both asleep for 200 ms; loop 1 stamped throughout, loop 0 not since 0 (blocked in a sleep or on a lock)
    double[] busy = load.sample(200 * MS, times(0, 0, 0, 0), new long[] {0, 200 * MS}, LATE);
    assertThat(busy[0]).isEqualTo(1.0);
    assertThat(busy[1]).isZero();
    // stamping again: its CPU says what it is, no trace of the block
    busy = load.sample(250 * MS, times(0, 0, 0, 0), new long[] {250 * MS, 250 * MS}, LATE);
    assertThat(busy[0]).isZero();
  }

  @Test
  void aLateLoopThatWaitsForACpuIsJudgedByItsTimes() {
    LoopLoad load = new LoopLoad(1);
    load.sample(0, new LoopCpu.Times[] {new LoopCpu.Times(0, 0, false)}, new long[] {0}, LATE);
    // 200 ms without a stamp, runnable now: it ran 20 ms and waited 40 ms for a CPU so far
    double[] busy = load.sample(200 * MS, new LoopCpu.Times[] {new LoopCpu.Times(20 * MS, 40 * MS, true)},
        new long[] {0}, LATE);
    assertThat(busy[0]).isCloseTo(0.3, within(0.01));
  }

  @Test
  void aThreadRunnableThroughoutWithoutProgressWaitedForACpu() {
    LoopCpu.Times before = new LoopCpu.Times(10 * MS, 5 * MS, true);
    assertThat(LoopLoad.interval(before, before, 50 * MS)).isEqualTo(1.0);
    LoopCpu.Times asleep = new LoopCpu.Times(10 * MS, 5 * MS, false);
    assertThat(LoopLoad.interval(asleep, asleep, 50 * MS)).isZero();
  }

  @Test
  void anUnknownThreadIsUnknown() {
    LoopLoad load = new LoopLoad(1);
    load.sample(0, new LoopCpu.Times[] {LoopCpu.Times.UNKNOWN}, new long[] {0}, LATE);
    assertThat(load.sample(50 * MS, new LoopCpu.Times[] {LoopCpu.Times.UNKNOWN}, new long[] {50 * MS}, LATE)[0])
        .isNaN();
  }

  /** Per loop, pairs of cumulative (ran, waited) in ms; every thread asleep at the moment of reading. */
  private static LoopCpu.Times[] times(long... ranWaitedMs) {
    LoopCpu.Times[] times = new LoopCpu.Times[ranWaitedMs.length / 2];
    for (int i = 0; i < times.length; i++) {
      times[i] = new LoopCpu.Times(ranWaitedMs[2 * i] * MS, ranWaitedMs[2 * i + 1] * MS, false);
    }
    return times;
  }
}
