package io.reuseport.steer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a list of {@link Insn}s and labels into the bytes {@code BPF_PROG_LOAD} takes: 8 bytes per slot, little
 * endian (x86_64, arm64), jump offsets counted in slots from the instruction after the jump, map names replaced by
 * their descriptors.
 */
public final class Assembler {

  /** Size of {@code struct bpf_insn}. */
  static final int SLOT_BYTES = 8;

  private final List<Object> lines = new ArrayList<>();

  /** Appends an instruction. */
  public Assembler add(Insn insn) {
    lines.add(insn);
    return this;
  }

  /** Marks the position of the next instruction as {@code name}. */
  public Assembler label(String name) {
    lines.add(new Label(name));
    return this;
  }

  /** Instruction slots so far. */
  public int slots() {
    return lines.stream().filter(l -> l instanceof Insn).mapToInt(l -> ((Insn) l).slots()).sum();
  }

  /**
   * The program's bytes.
   *
   * @param mapFds descriptor of every map the program names
   * @throws IllegalArgumentException for an unknown label or map, or a jump out of range
   */
  public byte[] encode(Map<String, Integer> mapFds) {
    Map<String, Integer> labels = new HashMap<>();
    int slot = 0;
    for (Object line : lines) {
      if (line instanceof Label) {
        if (labels.put(((Label) line).name(), slot) != null) {
          throw new IllegalArgumentException("label " + ((Label) line).name() + " defined twice");
        }
      } else {
        slot += ((Insn) line).slots();
      }
    }
    ByteBuffer out = ByteBuffer.allocate(slot * SLOT_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    int at = 0;
    for (Object line : lines) {
      if (!(line instanceof Insn)) {
        continue;
      }
      Insn insn = (Insn) line;
      int offset = insn.offset();
      int imm = insn.imm();
      int src = insn.src().number();
      if (insn.jumpTo() != null) {
        Integer target = labels.get(insn.jumpTo());
        if (target == null) {
          throw new IllegalArgumentException("jump to unknown label " + insn.jumpTo());
        }
        offset = target - (at + 1);
        if (offset < 0) {
          // the verifier rejects back-edges in most programs anyway; the selector never needs one
          throw new IllegalArgumentException("backward jump to " + insn.jumpTo());
        }
      }
      if (insn.map() != null) {
        Integer fd = mapFds.get(insn.map());
        if (fd == null) {
          throw new IllegalArgumentException("no descriptor for map " + insn.map());
        }
        imm = fd;
        src = Insn.PSEUDO_MAP_FD;
      }
      if (offset > Short.MAX_VALUE) {
        throw new IllegalArgumentException("offset " + offset + " out of range");
      }
      put(out, insn.opcode(), insn.dst().number(), src, offset, imm);
      if (insn.slots() == 2) {
        // the upper 32 bits of the immediate: zero for a map descriptor
        put(out, 0, 0, 0, 0, 0);
      }
      at += insn.slots();
    }
    return out.array();
  }

  private static void put(ByteBuffer out, int opcode, int dst, int src, int offset, int imm) {
    out.put((byte) opcode);
    out.put((byte) ((src << 4) | dst));
    out.putShort((short) offset);
    out.putInt(imm);
  }

  private record Label(String name) {
  }
}
