package io.reuseport.steer;

/**
 * One eBPF instruction ({@code struct bpf_insn}: opcode, dst and src registers, 16-bit offset, 32-bit immediate),
 * with named constructors for the few the selector needs. A jump names its target label and a map load names its
 * map; {@link Assembler} resolves both when it encodes the program.
 *
 * @param jumpTo the label a jump goes to, else null
 * @param map the map whose descriptor a {@link #loadMap} puts in its register, else null
 */
public record Insn(int opcode, Reg dst, Reg src, int offset, int imm, String jumpTo, String map) {

  // instruction classes
  private static final int LDX = 0x01;
  private static final int ST = 0x02;
  private static final int STX = 0x03;
  /** {@code BPF_ATOMIC} mode (was {@code BPF_XADD}) with {@code imm = BPF_ADD}: a locked add to memory. */
  private static final int ATOMIC = 0xc0;
  private static final int ATOMIC_ADD = 0x00;
  private static final int JMP = 0x05;
  private static final int ALU64 = 0x07;
  // size and mode
  private static final int WORD = 0x00;
  private static final int DOUBLE_WORD = 0x18;
  private static final int MEM = 0x60;
  private static final int IMM = 0x00;
  // operand source
  private static final int K = 0x00;
  private static final int X = 0x08;
  // ALU and jump operations
  private static final int ADD = 0x00;
  private static final int SUB = 0x10;
  private static final int RSH = 0x70;
  private static final int AND = 0x50;
  private static final int MOV = 0xb0;
  private static final int JA = 0x00;
  private static final int JEQ = 0x10;
  private static final int JGT = 0x20;
  private static final int JGE = 0x30;
  private static final int JNE = 0x50;
  private static final int CALL = 0x80;
  private static final int EXIT = 0x90;
  /** {@code BPF_LD | BPF_IMM | BPF_DW}: a 64-bit immediate over two instruction slots. */
  static final int LOAD_IMM64 = 0x00 | IMM | DOUBLE_WORD;
  /** In a 64-bit load's src register: the immediate is a map descriptor, turned into the map's address at load. */
  static final int PSEUDO_MAP_FD = 1;

  /** {@code dst = *(u32 *)(src + offset)}: e.g. a field of the context, or the value a lookup returned. */
  public static Insn loadWord(Reg dst, Reg src, int offset) {
    return new Insn(LDX | MEM | WORD, dst, src, offset, 0, null, null);
  }

  /** {@code dst = *(u64 *)(src + offset)}: e.g. a time stamp in a map value. */
  public static Insn loadDoubleWord(Reg dst, Reg src, int offset) {
    return new Insn(LDX | MEM | DOUBLE_WORD, dst, src, offset, 0, null, null);
  }

  /** {@code *(u64 *)(dst + offset) = src}: e.g. a time stamp into a map value or onto the stack. */
  public static Insn storeDoubleWord(Reg dst, int offset, Reg src) {
    return new Insn(STX | MEM | DOUBLE_WORD, dst, src, offset, 0, null, null);
  }

  /** {@code lock *(u64 *)(dst + offset) += src}: a counter in a map value shared by every CPU. */
  public static Insn atomicAddDoubleWord(Reg dst, int offset, Reg src) {
    return new Insn(STX | ATOMIC | DOUBLE_WORD, dst, src, offset, ATOMIC_ADD, null, null);
  }

  /** {@code *(u32 *)(dst + offset) = src}: e.g. a map key on the stack ({@code dst} = R10, negative offset). */
  public static Insn storeWord(Reg dst, int offset, Reg src) {
    return new Insn(STX | MEM | WORD, dst, src, offset, 0, null, null);
  }

  /** {@code *(u32 *)(dst + offset) = imm}. */
  public static Insn storeWordImm(Reg dst, int offset, int imm) {
    return new Insn(ST | MEM | WORD, dst, Reg.R0, offset, imm, null, null);
  }

  /** {@code dst = imm} (64-bit register, immediate sign-extended). */
  public static Insn moveImm(Reg dst, int imm) {
    return new Insn(ALU64 | MOV | K, dst, Reg.R0, 0, imm, null, null);
  }

  /** {@code dst = src}. */
  public static Insn move(Reg dst, Reg src) {
    return new Insn(ALU64 | MOV | X, dst, src, 0, 0, null, null);
  }

  /** {@code dst += imm}. */
  public static Insn addImm(Reg dst, int imm) {
    return new Insn(ALU64 | ADD | K, dst, Reg.R0, 0, imm, null, null);
  }

  /** {@code dst += src}. */
  public static Insn addReg(Reg dst, Reg src) {
    return new Insn(ALU64 | ADD | X, dst, src, 0, 0, null, null);
  }

  /** {@code dst -= src}. */
  public static Insn subReg(Reg dst, Reg src) {
    return new Insn(ALU64 | SUB | X, dst, src, 0, 0, null, null);
  }

  /** {@code dst >>= imm}, unsigned. */
  public static Insn shiftRightImm(Reg dst, int imm) {
    return new Insn(ALU64 | RSH | K, dst, Reg.R0, 0, imm, null, null);
  }

  /** {@code dst &= imm}. */
  public static Insn andImm(Reg dst, int imm) {
    return new Insn(ALU64 | AND | K, dst, Reg.R0, 0, imm, null, null);
  }

  /** {@code dst = address of map} (two instruction slots; the kernel swaps the descriptor for the map). */
  public static Insn loadMap(Reg dst, String map) {
    return new Insn(LOAD_IMM64, dst, Reg.R0, 0, 0, null, map);
  }

  /** {@code goto label}. */
  public static Insn jump(String label) {
    return new Insn(JMP | JA | K, Reg.R0, Reg.R0, 0, 0, label, null);
  }

  /** {@code if dst == imm goto label}. */
  public static Insn jumpIfEqual(Reg dst, int imm, String label) {
    return new Insn(JMP | JEQ | K, dst, Reg.R0, 0, imm, label, null);
  }

  /** {@code if dst == src goto label}. */
  public static Insn jumpIfEqualReg(Reg dst, Reg src, String label) {
    return new Insn(JMP | JEQ | X, dst, src, 0, 0, label, null);
  }

  /** {@code if dst != imm goto label}. */
  public static Insn jumpIfNotEqual(Reg dst, int imm, String label) {
    return new Insn(JMP | JNE | K, dst, Reg.R0, 0, imm, label, null);
  }

  /** {@code if dst > imm goto label}, unsigned. */
  public static Insn jumpIfAbove(Reg dst, int imm, String label) {
    return new Insn(JMP | JGT | K, dst, Reg.R0, 0, imm, label, null);
  }

  /** {@code if dst > src goto label}, unsigned. */
  public static Insn jumpIfAboveReg(Reg dst, Reg src, String label) {
    return new Insn(JMP | JGT | X, dst, src, 0, 0, label, null);
  }

  /** {@code if dst >= imm goto label}, unsigned. */
  public static Insn jumpIfAtLeast(Reg dst, int imm, String label) {
    return new Insn(JMP | JGE | K, dst, Reg.R0, 0, imm, label, null);
  }

  /** {@code r0 = helper(r1, ..., r5)}. */
  public static Insn call(Helper helper) {
    return new Insn(JMP | CALL | K, Reg.R0, Reg.R0, 0, helper.id(), null, null);
  }

  /** {@code return r0}. */
  public static Insn exit() {
    return new Insn(JMP | EXIT | K, Reg.R0, Reg.R0, 0, 0, null, null);
  }

  /** Instruction slots taken: 2 for a 64-bit immediate load, else 1. */
  int slots() {
    return opcode == LOAD_IMM64 ? 2 : 1;
  }
}
