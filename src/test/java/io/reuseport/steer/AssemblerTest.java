package io.reuseport.steer;

import org.junit.jupiter.api.Test;

import java.util.HexFormat;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The encoding of each named instruction, checked against {@code struct bpf_insn} as the kernel's eBPF instruction
 * set document defines it (opcode, dst | src << 4, little-endian offset, little-endian immediate).
 */
class AssemblerTest {

  private static String hex(Assembler a, Map<String, Integer> maps) {
    return HexFormat.of().formatHex(a.encode(maps));
  }

  private static String hex(Insn insn) {
    return hex(new Assembler().add(insn), Map.of());
  }

  @Test
  void eachNamedInstructionEncodesAsTheKernelDefinesIt() {
    assertThat(hex(Insn.move(Reg.R6, Reg.R1))).isEqualTo("bf16000000000000");
    assertThat(hex(Insn.loadWord(Reg.R2, Reg.R6, 32))).isEqualTo("6162200000000000");
    assertThat(hex(Insn.andImm(Reg.R2, 255))).isEqualTo("57020000ff000000");
    assertThat(hex(Insn.storeWord(Reg.R10, -4, Reg.R2))).isEqualTo("632afcff00000000");
    assertThat(hex(Insn.storeWordImm(Reg.R10, -8, 7))).isEqualTo("620af8ff07000000");
    assertThat(hex(Insn.addImm(Reg.R2, -4))).isEqualTo("07020000fcffffff");
    assertThat(hex(Insn.moveImm(Reg.R0, 1))).isEqualTo("b700000001000000");
    assertThat(hex(Insn.call(Helper.MAP_LOOKUP_ELEM))).isEqualTo("8500000001000000");
    assertThat(hex(Insn.call(Helper.SK_SELECT_REUSEPORT))).isEqualTo("8500000052000000");
    assertThat(hex(Insn.exit())).isEqualTo("9500000000000000");
  }

  @Test
  void aMapLoadTakesTwoSlotsAndCarriesTheDescriptorAsAPseudoMapFd() {
    Assembler a = new Assembler().add(Insn.loadMap(Reg.R1, "table"));
    assertThat(a.slots()).isEqualTo(2);
    assertThat(hex(a, Map.of("table", 5))).isEqualTo("1811000005000000" + "0000000000000000");
  }

  @Test
  void jumpsCountSlotsFromTheNextInstructionToTheirLabel() {
    Assembler a = new Assembler()
        .add(Insn.jumpIfEqual(Reg.R0, 0, "end"))        // slot 0: +3 (skips 1, 2-3)
        .add(Insn.jumpIfAtLeast(Reg.R7, 256, "end"))    // slot 1: +2
        .add(Insn.loadMap(Reg.R2, "m"))                 // slots 2-3
        .label("end")
        .add(Insn.jumpIfNotEqual(Reg.R2, 17, "next"))   // slot 4: +0
        .label("next")
        .add(Insn.jump("last"))                         // slot 5: +0
        .label("last")
        .add(Insn.exit());
    String code = hex(a, Map.of("m", 9));
    assertThat(code.substring(0, 16)).isEqualTo("1500030000000000");
    assertThat(code.substring(16, 32)).isEqualTo("3507020000010000");
    assertThat(code.substring(64, 80)).isEqualTo("5502000011000000");
    assertThat(code.substring(80, 96)).isEqualTo("0500000000000000");
  }

  @Test
  void unknownLabelsMapsAndBackwardJumpsAreRefused() {
    assertThatThrownBy(() -> new Assembler().add(Insn.jump("nowhere")).encode(Map.of()))
        .hasMessageContaining("unknown label nowhere");
    assertThatThrownBy(() -> new Assembler().add(Insn.loadMap(Reg.R1, "x")).encode(Map.of()))
        .hasMessageContaining("no descriptor for map x");
    assertThatThrownBy(() -> new Assembler().label("top").add(Insn.jump("top")).encode(Map.of()))
        .hasMessageContaining("backward jump");
  }

  @Test
  void theSelectorProgramReadsHashAndProtocolFromTheContextAndEndsInSkPass() {
    Assembler program = SelectorProgram.assemble(4, 120);
    byte[] code = program.encode(Map.of(SelectorProgram.TABLE, 3, SelectorProgram.SOCKETS, 4,
        SelectorProgram.FLOWS, 5, SelectorProgram.HEALTH, 6, SelectorProgram.PINNED, 7));
    String text = HexFormat.of().formatHex(code);
    assertThat(code.length).isEqualTo(program.slots() * Assembler.SLOT_BYTES);
    // r2 = ctx->hash (offset 32 of struct sk_reuseport_md), r8 = ctx->ip_protocol (offset 24)
    assertThat(text).contains("6162200000000000").contains("6168180000000000");
    // every map referenced by descriptor
    assertThat(text).contains("1811000003000000").contains("1812000004000000").contains("1811000005000000")
        .contains("1811000006000000");
    // a UDP flow is remembered: bpf_map_update_elem; with the time of its datagram: bpf_ktime_get_ns
    assertThat(text).contains("8500000002000000").contains("8500000005000000");
    // its gap since the last datagram compared with 120 s in units of 2^20 ns: r3 >>= 20; if r3 > 114441 goto
    assertThat(text).contains("7703000014000000").containsPattern("2503[0-9a-f]{4}09bf0100");
    // one select per instance: the slot, then the next ones round the ring
    assertThat(text.split("8500000052000000", -1)).hasSize(4 + 1);
    // return SK_PASS whatever the select did
    assertThat(text).endsWith("b700000001000000" + "9500000000000000");
  }
}
