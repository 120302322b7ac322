package io.reuseport.load;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The machine-load figure: from the kernel's CPU counters between two reads, right for a run of any length. The
 * last test keeps one thread busy on purpose (it is what is measured), bounded to a fraction of a second.
 */
class CpuMeterTest {

  @Test
  void busyShareIsEverythingButIdleAndIoWaitBetweenTwoReads() {
    CpuMeter.MachineTimes before = CpuMeter.MachineTimes.parse(List.of(
        "cpu  100 0 50 800 50 0 0 0 0 0", "cpu0 50 0 25 400 25 0 0 0 0 0", "intr 1 2 3"));
    CpuMeter.MachineTimes after = CpuMeter.MachineTimes.parse(List.of(
        "cpu  250 10 90 1000 50 0 0 0 30 0"));
    assertThat(before).isEqualTo(new CpuMeter.MachineTimes(150, 1000));
    // 200 busy ticks (150 user + 10 nice + 40 system) of 400; guest time is already inside user
    assertThat(after.loadSince(before)).isCloseTo(0.5, within(1e-9));
    assertThat(before.loadSince(before)).isEqualTo(-1);
  }

  @Test
  void withoutProcStatTheMachineLoadIsUnknown() {
    assertThat(CpuMeter.start(Path.of("/nonexistent/stat")).machineLoad()).isEqualTo(-1);
    assertThat(CpuMeter.MachineTimes.parse(List.of("intr 1"))).isNull();
  }

  @Test
  void aShortBusySpellShowsAsLoad() {
    CpuMeter meter = CpuMeter.start();
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
    long spins = 0;
    while (System.nanoTime() < until) {
      spins++;
    }
    assertThat(spins).isPositive();
    assertThat(meter.machineLoad()).isGreaterThan(0.0).isLessThanOrEqualTo(1.0);
    assertThat(meter.processCores()).isGreaterThan(0.0);
  }
}
