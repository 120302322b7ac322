package io.reuseport.steer;

import static io.reuseport.steer.Insn.addImm;
import static io.reuseport.steer.Insn.addReg;
import static io.reuseport.steer.Insn.andImm;
import static io.reuseport.steer.Insn.atomicAddDoubleWord;
import static io.reuseport.steer.Insn.call;
import static io.reuseport.steer.Insn.exit;
import static io.reuseport.steer.Insn.jump;
import static io.reuseport.steer.Insn.jumpIfAbove;
import static io.reuseport.steer.Insn.jumpIfAboveReg;
import static io.reuseport.steer.Insn.jumpIfAtLeast;
import static io.reuseport.steer.Insn.jumpIfEqual;
import static io.reuseport.steer.Insn.jumpIfEqualReg;
import static io.reuseport.steer.Insn.jumpIfNotEqual;
import static io.reuseport.steer.Insn.loadDoubleWord;
import static io.reuseport.steer.Insn.loadMap;
import static io.reuseport.steer.Insn.loadWord;
import static io.reuseport.steer.Insn.move;
import static io.reuseport.steer.Insn.moveImm;
import static io.reuseport.steer.Insn.shiftRightImm;
import static io.reuseport.steer.Insn.storeDoubleWord;
import static io.reuseport.steer.Insn.storeWord;
import static io.reuseport.steer.Insn.storeWordImm;
import static io.reuseport.steer.Insn.subReg;
import static io.reuseport.steer.Reg.R0;
import static io.reuseport.steer.Reg.R1;
import static io.reuseport.steer.Reg.R10;
import static io.reuseport.steer.Reg.R2;
import static io.reuseport.steer.Reg.R3;
import static io.reuseport.steer.Reg.R4;
import static io.reuseport.steer.Reg.R6;
import static io.reuseport.steer.Reg.R7;
import static io.reuseport.steer.Reg.R8;
import static io.reuseport.steer.Reg.R9;

/**
 * The selector, a {@code BPF_PROG_TYPE_SK_REUSEPORT} program run by the kernel for every SYN and every datagram
 * that reaches the port's group:
 *
 * <pre>
 *   bucket = ctx.hash &amp; (BUCKETS - 1)           the kernel's 4-tuple hash: one flow, one bucket
 *   if UDP and flows[hash] is a healthy slot       a known UDP flow stays with its instance
 *        and was seen within the idle time:        (an idle one is placed afresh: moved flows come home)
 *     slot = flows[hash]; flows[hash].seen = now
 *     if slot != table[bucket]: pinned[slot] += 1    a datagram kept away from its table's instance
 *   else:
 *     slot = table[bucket]                         user space rewrites this table, never the program
 *     if slot &gt;= instances: slot = 0           no table written yet
 *     else if UDP: flows[hash] = {slot, now}       remember where the flow went (LRU: old flows age out)
 *   for i in 0 .. instances - 1:                   unrolled: slot, then the next ones round the ring
 *     key = (slot + i) % instances (+ UDP_BASE for a datagram)
 *     if bpf_sk_select_reuseport(ctx, sockets, key) == 0: return SK_PASS     one of ours takes it
 *   return SK_PASS                                 none of ours is left in the map: the kernel's hash
 * </pre>
 *
 * <p>The group is locked: while one socket of ours is in the map, no socket of another process (a same-user
 * {@code SO_REUSEPORT} stranger) gets a connection or a datagram, since the kernel's hash, which might pick it, is
 * only the last resort. A closing listener leaves the socket map before its queued requests are migrated (loaded as
 * {@code SELECT_OR_MIGRATE} the program also runs for each of them, {@code ctx.migrating_sk} set): its own key fails
 * to select, so the walk hands each request to the next live listener of ours, without {@code tcp_migrate_req}.
 *
 * A UDP flow moves only when its instance is out ({@code health[slot] == 0}); when the instance comes back, the
 * flows that moved away stay where they went as long as they are live (stateful UDP: QUIC, game servers). A flow
 * that has gone the idle time without a datagram ({@code udpFlowIdleSeconds}, as udpgrm's 125 s for its assured
 * flows) is forgotten in effect: its next datagram is placed by the table, so flows moved by a stall that have since
 * ended rebalance. The clock is {@code bpf_ktime_get_ns}; an idle gap is compared in units of 2^20 ns (about
 * 1.05 ms), so that any idle time up to a day fits an instruction's 32-bit immediate. Written in sections, one
 * method each, so that a later step (a migrating request's own branch) slots in between them without a rewrite. R6
 * keeps the context, R7 the slot, R8 the socket key's base and R9 the flow's entry across helper calls (which
 * clobber R1-R5).
 */
public final class SelectorProgram {

  /** Hash buckets in the table: a power of two, so that the bucket is a mask of the hash. */
  public static final int BUCKETS = 256;
  /** Instances (slots) a process may steer to; also the table value meaning "no instance". */
  public static final int MAX_SLOTS = BUCKETS;
  public static final int NO_SLOT = MAX_SLOTS;
  /** UDP sockets sit at {@code UDP_BASE + slot} in the socket map, TCP listeners at {@code slot}. */
  public static final int UDP_BASE = MAX_SLOTS;
  /** Map names, resolved to descriptors when the program is encoded. */
  public static final String TABLE = "table";
  public static final String SOCKETS = "sockets";
  /** {@code LRU_HASH}: the kernel's hash of a UDP flow -> the slot it went to. */
  public static final String FLOWS = "flows";
  /** {@code ARRAY}: slot -> 1 while that instance gets new traffic, 0 while it is steered around. */
  public static final String HEALTH = "health";
  /**
   * {@code ARRAY}: slot -> datagrams of live flows kept there although the table now sends their bucket elsewhere
   * (moved during a stall, pinned while live): why UDP can stay uneven after the table is even again.
   */
  public static final String PINNED = "pinned";
  /** UDP flows remembered; the least recently used is forgotten first. */
  public static final int MAX_FLOWS = 65_536;
  /** A flow's entry: {@code struct {u32 slot; u32 pad; u64 seen_ns;}}, its instance and its last datagram. */
  public static final int FLOW_VALUE_BYTES = 16;
  static final int FLOW_SLOT = 0;
  static final int FLOW_SEEN = 8;
  /** An idle gap is compared in units of {@code 1 << IDLE_SHIFT} ns. */
  static final int IDLE_SHIFT = 20;
  /** The longest idle time the program takes: {@link #idleUnits} of it fits a signed 32-bit immediate. */
  public static final long MAX_IDLE_SECONDS = 86_400;

  // struct sk_reuseport_md (include/uapi/linux/bpf.h)
  static final int CTX_IP_PROTOCOL = 24;
  static final int CTX_HASH = 32;
  static final int IPPROTO_UDP = 17;
  // enum sk_action
  static final int SK_PASS = 1;
  // the stack, below the frame pointer R10
  static final int STACK_BUCKET = -4;
  static final int STACK_SOCKET_KEY = -8;
  static final int STACK_FLOW_KEY = -12;
  static final int STACK_HEALTH_KEY = -36;
  /** A new flow's entry, 8-byte aligned: slot at -32, padding at -28, now (the datagram's time) at -24. */
  static final int STACK_FLOW_VALUE = -32;
  static final int STACK_NOW = STACK_FLOW_VALUE + FLOW_SEEN;
  // labels
  static final String FROM_TABLE = "from_table";
  static final String NO_TABLE = "no_table";
  static final String SOCKET_KEY = "socket_key";
  static final String FLOW_LIVE = "flow_live";
  static final String PASS = "pass";

  private SelectorProgram() {
  }

  /**
   * The whole program for a process of {@code instances} instances (the walk over them is unrolled: the verifier of
   * older kernels takes no loops).
   */
  public static Assembler assemble(int instances, long flowIdleSeconds) {
    if (instances < 1 || instances > MAX_SLOTS) {
      throw new IllegalArgumentException("instances " + instances + " out of 1.." + MAX_SLOTS);
    }
    if (flowIdleSeconds < 1 || flowIdleSeconds > MAX_IDLE_SECONDS) {
      throw new IllegalArgumentException("flow idle time " + flowIdleSeconds + " s out of 1.." + MAX_IDLE_SECONDS);
    }
    Assembler program = new Assembler();
    prologue(program);
    keyBase(program);
    slotOfKnownFlow(program, idleUnits(flowIdleSeconds));
    slotFromTable(program, instances);
    rememberFlow(program);
    noTable(program);
    walk(program, instances);
    pass(program);
    return program;
  }

  /** The idle time in the program's units, rounded up: a flow is idle once its gap is above this. */
  static int idleUnits(long flowIdleSeconds) {
    long nanos = flowIdleSeconds * 1_000_000_000L;
    return (int) ((nanos + (1L << IDLE_SHIFT) - 1) >>> IDLE_SHIFT);
  }

  /** Keeps the context, stores the hash (the flow key) and the bucket {@code hash & (BUCKETS - 1)} (the table key). */
  static void prologue(Assembler p) {
    p.add(move(R6, R1));                                  // r6 = ctx: helper calls clobber r1
    p.add(loadWord(R2, R6, CTX_HASH));                    // r2 = ctx->hash
    p.add(storeWord(R10, STACK_FLOW_KEY, R2));            // stack[-12] = hash (the flow's key)
    p.add(andImm(R2, BUCKETS - 1));                       // r2 = bucket
    p.add(storeWord(R10, STACK_BUCKET, R2));              // stack[-4] = bucket (the lookup takes a pointer)
  }

  /** {@code r8 = UDP_BASE} for a datagram, 0 for a SYN (or a migrating request): added to every socket key. */
  static void keyBase(Assembler p) {
    p.add(loadWord(R8, R6, CTX_IP_PROTOCOL));             // r8 = ctx->ip_protocol
    p.add(jumpIfEqual(R8, IPPROTO_UDP, "udp_base"));
    p.add(moveImm(R8, 0));                                // TCP: key = slot
    p.add(jump("base_done"));
    p.label("udp_base");
    p.add(moveImm(R8, UDP_BASE));                         // UDP: key = UDP_BASE + slot
    p.label("base_done");
  }

  /**
   * For a datagram: {@code now} onto the stack; then, for a known flow seen within the idle time whose instance is
   * healthy: {@code r7 = flows[hash].slot}, its time stamp refreshed, on to the socket key.
   */
  static void slotOfKnownFlow(Assembler p, int idleUnits) {
    p.add(jumpIfNotEqual(R8, UDP_BASE, FROM_TABLE));      // TCP: every SYN is a new connection
    p.add(call(Helper.KTIME_GET_NS));                     // r0 = now, ns
    p.add(storeDoubleWord(R10, STACK_NOW, R0));           // stack[-24] = now (also a new flow's time stamp)
    p.add(loadMap(R1, FLOWS));                            // r1 = &flows
    p.add(move(R2, R10));
    p.add(addImm(R2, STACK_FLOW_KEY));                    // r2 = &stack[-12]
    p.add(call(Helper.MAP_LOOKUP_ELEM));                  // r0 = &flows[hash] or NULL
    p.add(jumpIfEqual(R0, 0, FROM_TABLE));                // a new flow
    p.add(move(R9, R0));                                  // r9 = &flows[hash]: kept across the next call
    p.add(loadDoubleWord(R2, R9, FLOW_SEEN));             // r2 = the flow's last datagram, ns
    p.add(loadDoubleWord(R3, R10, STACK_NOW));            // r3 = now
    p.add(jumpIfAboveReg(R2, R3, FLOW_LIVE));             // stamped by another CPU since our clock read: live
    p.add(subReg(R3, R2));                                // r3 = gap since its last datagram, ns
    p.add(shiftRightImm(R3, IDLE_SHIFT));                 // r3 = gap in units of 2^20 ns
    p.add(jumpIfAbove(R3, idleUnits, FROM_TABLE));        // idle too long: placed afresh, like a new flow
    p.label(FLOW_LIVE);
    p.add(loadWord(R7, R9, FLOW_SLOT));                   // r7 = the flow's slot
    p.add(jumpIfAtLeast(R7, MAX_SLOTS, FROM_TABLE));      // (never written; the verifier cannot know)
    p.add(storeWord(R10, STACK_HEALTH_KEY, R7));          // stack[-36] = slot
    p.add(loadMap(R1, HEALTH));                           // r1 = &health
    p.add(move(R2, R10));
    p.add(addImm(R2, STACK_HEALTH_KEY));                  // r2 = &stack[-36]
    p.add(call(Helper.MAP_LOOKUP_ELEM));                  // r0 = &health[slot]
    p.add(jumpIfEqual(R0, 0, FROM_TABLE));
    p.add(loadWord(R2, R0, 0));                           // r2 = 1 healthy, 0 steered around
    p.add(jumpIfEqual(R2, 0, FROM_TABLE));                // its instance is out: the flow moves
    p.add(loadDoubleWord(R2, R10, STACK_NOW));            // r2 = now
    p.add(storeDoubleWord(R9, FLOW_SEEN, R2));            // flows[hash].seen = now: it stays live
    countPinned(p);
    p.add(jump(SOCKET_KEY));                              // it stays
  }

  /** For a kept flow whose bucket the table now gives another instance: {@code pinned[slot] += 1}. */
  static void countPinned(Assembler p) {
    p.add(loadMap(R1, TABLE));                            // r1 = &table
    p.add(move(R2, R10));
    p.add(addImm(R2, STACK_BUCKET));                      // r2 = &stack[-4]
    p.add(call(Helper.MAP_LOOKUP_ELEM));                  // r0 = &table[bucket]
    p.add(jumpIfEqual(R0, 0, SOCKET_KEY));
    p.add(loadWord(R2, R0, 0));                           // r2 = the table's slot for the bucket
    p.add(jumpIfEqualReg(R2, R7, SOCKET_KEY));            // the flow is where the table puts it: not pinned
    p.add(loadMap(R1, PINNED));                           // r1 = &pinned
    p.add(move(R2, R10));
    p.add(addImm(R2, STACK_HEALTH_KEY));                  // r2 = &stack[-36] (the slot)
    p.add(call(Helper.MAP_LOOKUP_ELEM));                  // r0 = &pinned[slot]
    p.add(jumpIfEqual(R0, 0, SOCKET_KEY));
    p.add(moveImm(R1, 1));
    p.add(atomicAddDoubleWord(R0, 0, R1));                // pinned[slot] += 1, atomically (every CPU adds)
  }

  /** {@code r7 = table[bucket]}; to {@code no_table} before the first table is written. */
  static void slotFromTable(Assembler p, int instances) {
    p.label(FROM_TABLE);
    p.add(loadMap(R1, TABLE));                            // r1 = &table
    p.add(move(R2, R10));
    p.add(addImm(R2, STACK_BUCKET));                      // r2 = &stack[-4]
    p.add(call(Helper.MAP_LOOKUP_ELEM));                  // r0 = &table[bucket] or NULL
    p.add(jumpIfEqual(R0, 0, NO_TABLE));                  // NULL cannot happen for bucket < BUCKETS; the verifier
                                                          // wants the check
    p.add(loadWord(R7, R0, 0));                           // r7 = slot
    p.add(jumpIfAtLeast(R7, instances, NO_TABLE));        // NO_SLOT: no table yet
  }

  /** For a datagram: {@code flows[hash] = {slot, now}}, so that the flow stays there while it is live. */
  static void rememberFlow(Assembler p) {
    p.add(jumpIfNotEqual(R8, UDP_BASE, SOCKET_KEY));      // TCP: nothing to remember
    p.add(storeWord(R10, STACK_FLOW_VALUE + FLOW_SLOT, R7));  // stack[-32] = slot
    p.add(storeWordImm(R10, STACK_FLOW_VALUE + 4, 0));    // stack[-28] = 0 (padding; the map copies 16 bytes)
    p.add(loadMap(R1, FLOWS));                            // r1 = &flows
    p.add(move(R2, R10));
    p.add(addImm(R2, STACK_FLOW_KEY));                    // r2 = &stack[-12] (hash)
    p.add(move(R3, R10));
    p.add(addImm(R3, STACK_FLOW_VALUE));                  // r3 = &stack[-32] ({slot, now}; now at -24)
    p.add(moveImm(R4, 0));                                // r4 = BPF_ANY
    p.add(call(Helper.MAP_UPDATE_ELEM));                  // a full LRU map evicts its oldest flow
    p.add(jump(SOCKET_KEY));
  }

  /** Before the first table: start the walk at slot 0 (the process is not attached yet; nothing to remember). */
  static void noTable(Assembler p) {
    p.label(NO_TABLE);
    p.add(moveImm(R7, 0));
  }

  /**
   * Tries {@code sockets[(slot + i) % instances + r8]} for each i until one selects: the slot first, then, when its
   * socket is gone (closing, closed, not in the map yet), the next live one of ours. Returns {@code SK_PASS} on the
   * first success.
   */
  static void walk(Assembler p, int instances) {
    p.label(SOCKET_KEY);
    for (int i = 0; i < instances; i++) {
      String wrap = "wrap_" + i;
      String key = "key_" + i;
      p.add(move(R3, R7));
      p.add(addImm(R3, i));                               // r3 = slot + i
      p.add(jumpIfAtLeast(R3, instances, wrap));
      p.add(jump(key));
      p.label(wrap);
      p.add(addImm(R3, -instances));                      // r3 = (slot + i) % instances
      p.label(key);
      p.add(addReg(R3, R8));                              // + UDP_BASE for a datagram
      p.add(storeWord(R10, STACK_SOCKET_KEY, R3));        // stack[-8] = key
      p.add(move(R1, R6));                                // r1 = ctx
      p.add(loadMap(R2, SOCKETS));                        // r2 = &sockets
      p.add(move(R3, R10));
      p.add(addImm(R3, STACK_SOCKET_KEY));                // r3 = &stack[-8]
      p.add(moveImm(R4, 0));                              // r4 = flags
      p.add(call(Helper.SK_SELECT_REUSEPORT));            // 0 once sockets[key] is a live socket of this group
      p.add(jumpIfEqual(R0, 0, PASS));
    }
  }

  /**
   * {@code return SK_PASS}: with a socket selected the kernel takes it; without (none of ours left in the map) it
   * falls back to its own hash. Never {@code SK_DROP}: steering must not refuse traffic.
   */
  static void pass(Assembler p) {
    p.label(PASS);
    p.add(moveImm(R0, SK_PASS));
    p.add(exit());
  }
}
