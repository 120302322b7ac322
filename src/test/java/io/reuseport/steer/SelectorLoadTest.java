package io.reuseport.steer;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The kernel's verifier accepts the selector, in both attach flavours, and explains what it rejects. Root only. */
class SelectorLoadTest {

  @BeforeEach
  void rootOnly() throws IOException {
    Assumptions.assumeTrue(Files.readString(Path.of("/proc/self/status")).contains("\nUid:\t0\t"),
        "skipped: loading a BPF program needs root (CAP_BPF)");
  }

  @Test
  void theSelectorLoadsAsSelectAndAsSelectOrMigrate() {
    Selector.load(4, 120, false).close();
    Selector.load(4, 120, true).close();
    // the longest walk there is
    Selector.load(SelectorProgram.MAX_SLOTS, SelectorProgram.MAX_IDLE_SECONDS, true).close();
  }

  @Test
  void aRejectedProgramComesWithTheVerifiersLog() {
    // reads the context at an offset inside a pointer field: the verifier refuses and says where
    byte[] bad = new Assembler()
        .add(Insn.loadWord(Reg.R0, Reg.R1, 44))
        .add(Insn.exit())
        .encode(Map.of());
    assertThatThrownBy(() -> Bpf.loadProgram(bad, Bpf.ATTACH_SK_REUSEPORT_SELECT, "rp_bad"))
        .isInstanceOf(BpfException.class)
        .hasMessageContaining("EACCES")
        .hasMessageContaining("verifier log")
        .satisfies(e -> assertThat(((BpfException) e).notPermitted()).isFalse());
  }
}
