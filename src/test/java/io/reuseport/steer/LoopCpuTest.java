package io.reuseport.steer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The scheduler's view of one thread, read from its {@code /proc/self/task/TID} files kept open: fresh figures on
 * every read, and {@link LoopCpu.Times#UNKNOWN} where there is no such thread. Real threads, no mocks.
 */
@Timeout(60)
class LoopCpuTest {

  @Test
  void aKeptOpenReaderSeesTheThreadRunAndWorkAddUp() {
    try (LoopCpu self = LoopCpu.open(LoopCpu.currentThreadId())) {
      LoopCpu.Times first = self.read();
      assertThat(first.known()).isTrue();
      assertThat(first.runnable()).as("the thread reading itself is on a CPU").isTrue();
      // work until the reading moves: each read renders the file afresh from offset 0, not from where the last ended
      LoopCpu.Times later = first;
      long sink = 0;
      for (int round = 0; round < 100_000 && later.ranNanos() == first.ranNanos(); round++) {
        for (int i = 0; i < 10_000; i++) {
          sink += Long.rotateLeft(sink ^ i, 7);
        }
        later = self.read();
      }
      assertThat(later.ranNanos()).as("CPU time after work (%d)", sink).isGreaterThan(first.ranNanos());
      assertThat(later.waitedNanos()).isGreaterThanOrEqualTo(first.waitedNanos());
    }
  }

  @Test
  void noSuchThreadReadsUnknown() {
    // above any pid_max (at most 2^22): no task of this process has that id
    try (LoopCpu none = LoopCpu.open(Integer.MAX_VALUE); LoopCpu unknown = LoopCpu.open(LoopCpu.UNKNOWN_THREAD)) {
      assertThat(none.read()).isEqualTo(LoopCpu.Times.UNKNOWN);
      assertThat(unknown.read()).isEqualTo(LoopCpu.Times.UNKNOWN);
      assertThat(unknown.thread()).isEqualTo(LoopCpu.UNKNOWN_THREAD);
    }
  }
}
