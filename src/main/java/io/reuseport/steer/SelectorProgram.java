package io.reuseport.steer;

import static io.reuseport.steer.Insn.addImm;
import static io.reuseport.steer.Insn.addReg;
import static io.reuseport.steer.Insn.andImm;
import static io.reuseport.steer.Insn.call;
import static io.reuseport.steer.Insn.exit;
import static io.reuseport.steer.Insn.jump;
import static io.reuseport.steer.Insn.jumpIfAtLeast;
import static io.reuseport.steer.Insn.jumpIfEqual;
import static io.reuseport.steer.Insn.jumpIfNotEqual;
import static io.reuseport.steer.Insn.loadMap;
import static io.reuseport.steer.Insn.loadWord;
import static io.reuseport.steer.Insn.move;
import static io.reuseport.steer.Insn.moveImm;
import static io.reuseport.steer.Insn.storeWord;
import static io.reuseport.steer.Reg.R0;
import static io.reuseport.steer.Reg.R1;
import static io.reuseport.steer.Reg.R10;
import static io.reuseport.steer.Reg.R2;
import static io.reuseport.steer.Reg.R3;
import static io.reuseport.steer.Reg.R4;
import static io.reuseport.steer.Reg.R6;
import static io.reuseport.steer.Reg.R7;
import static io.reuseport.steer.Reg.R8;

/**
 * The selector, a {@code BPF_PROG_TYPE_SK_REUSEPORT} program run by the kernel for every SYN and every datagram
 * that reaches the port's group:
 *
 * <pre>
 *   bucket = ctx.hash &amp; (BUCKETS - 1)           the kernel's 4-tuple hash: one flow, one bucket
 *   if UDP and flows[hash] is a healthy slot:      a known UDP flow stays with its instance
 *     slot = flows[hash]
 *   else:
 *     slot = table[bucket]                         user space rewrites this table, never the program
 *     if slot &gt;= instances: slot = 0           no table written yet
 *     else if UDP: flows[hash] = slot              remember where the flow went (LRU: old flows age out)
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
 * flows that moved away stay where they went (stateful UDP: QUIC, game servers). Written in sections, one method
 * each, so that a later step (a migrating request's own branch) slots in between them without a rewrite. R6 keeps
 * the context and R7 the slot across helper calls (which clobber R1-R5).
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
  /** UDP flows remembered; the least recently used is forgotten first. */
  public static final int MAX_FLOWS = 65_536;

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
  static final int STACK_FLOW_SLOT = -16;
  static final int STACK_HEALTH_KEY = -20;
  // labels
  static final String FROM_TABLE = "from_table";
  static final String NO_TABLE = "no_table";
  static final String SOCKET_KEY = "socket_key";
  static final String PASS = "pass";

  private SelectorProgram() {
  }

  /**
   * The whole program for a process of {@code instances} instances (the walk over them is unrolled: the verifier of
   * older kernels takes no loops).
   */
  public static Assembler assemble(int instances) {
    if (instances < 1 || instances > MAX_SLOTS) {
      throw new IllegalArgumentException("instances " + instances + " out of 1.." + MAX_SLOTS);
    }
    Assembler program = new Assembler();
    prologue(program);
    keyBase(program);
    slotOfKnownFlow(program);
    slotFromTable(program, instances);
    rememberFlow(program);
    noTable(program);
    walk(program, instances);
    pass(program);
    return program;
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

  /** For a datagram of a known flow whose instance is healthy: {@code r7 = flows[hash]}, on to the socket key. */
  static void slotOfKnownFlow(Assembler p) {
    p.add(loadWord(R2, R6, CTX_IP_PROTOCOL));             // r2 = ctx->ip_protocol
    p.add(jumpIfNotEqual(R2, IPPROTO_UDP, FROM_TABLE));   // TCP: every SYN is a new connection
    p.add(loadMap(R1, FLOWS));                            // r1 = &flows
    p.add(move(R2, R10));
    p.add(addImm(R2, STACK_FLOW_KEY));                    // r2 = &stack[-12]
    p.add(call(Helper.MAP_LOOKUP_ELEM));                  // r0 = &flows[hash] or NULL
    p.add(jumpIfEqual(R0, 0, FROM_TABLE));                // a new flow
    p.add(loadWord(R7, R0, 0));                           // r7 = the flow's slot
    p.add(jumpIfAtLeast(R7, MAX_SLOTS, FROM_TABLE));      // (never written; the verifier cannot know)
    p.add(storeWord(R10, STACK_HEALTH_KEY, R7));          // stack[-20] = slot
    p.add(loadMap(R1, HEALTH));                           // r1 = &health
    p.add(move(R2, R10));
    p.add(addImm(R2, STACK_HEALTH_KEY));                  // r2 = &stack[-20]
    p.add(call(Helper.MAP_LOOKUP_ELEM));                  // r0 = &health[slot]
    p.add(jumpIfEqual(R0, 0, FROM_TABLE));
    p.add(loadWord(R2, R0, 0));                           // r2 = 1 healthy, 0 steered around
    p.add(jumpIfEqual(R2, 0, FROM_TABLE));                // its instance is out: the flow moves
    p.add(jump(SOCKET_KEY));                              // it stays
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

  /** For a datagram: {@code flows[hash] = slot}, so that the flow stays there. */
  static void rememberFlow(Assembler p) {
    p.add(loadWord(R2, R6, CTX_IP_PROTOCOL));             // r2 = ctx->ip_protocol
    p.add(jumpIfNotEqual(R2, IPPROTO_UDP, SOCKET_KEY));
    p.add(storeWord(R10, STACK_FLOW_SLOT, R7));           // stack[-16] = slot
    p.add(loadMap(R1, FLOWS));                            // r1 = &flows
    p.add(move(R2, R10));
    p.add(addImm(R2, STACK_FLOW_KEY));                    // r2 = &stack[-12] (hash)
    p.add(move(R3, R10));
    p.add(addImm(R3, STACK_FLOW_SLOT));                   // r3 = &stack[-16] (slot)
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
