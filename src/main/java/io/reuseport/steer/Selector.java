package io.reuseport.steer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * This process's selector in the kernel: the program, its bucket table ({@code ARRAY}: bucket -> slot), its
 * socket map ({@code REUSEPORT_SOCKARRAY}: slot -> this process's TCP listener, {@code UDP_BASE + slot} -> its UDP
 * socket), its UDP flow table ({@code LRU_HASH}: hash -> slot and last datagram, written by the program), the
 * instances' health ({@code ARRAY}: slot -> 1/0) and the datagrams of pinned flows per instance ({@code ARRAY}:
 * slot -> count, written by the program). Loaded once; after {@link #attach} only map entries change (replacing a
 * group's program while traffic flows has been a kernel hazard). Not thread-safe: one owner ({@link Steering}) calls
 * it, except {@link #pinnedDatagrams}, a read.
 */
public final class Selector implements AutoCloseable {

  private final int tableFd;
  private final int socketsFd;
  private final int flowsFd;
  private final int healthFd;
  private final int pinnedFd;
  private final int programFd;
  private final int[] written = new int[SelectorProgram.BUCKETS];
  private final int[] healthWritten = new int[SelectorProgram.MAX_SLOTS];

  private Selector(int tableFd, int socketsFd, int flowsFd, int healthFd, int pinnedFd, int programFd) {
    this.tableFd = tableFd;
    this.socketsFd = socketsFd;
    this.flowsFd = flowsFd;
    this.healthFd = healthFd;
    this.pinnedFd = pinnedFd;
    this.programFd = programFd;
    Arrays.fill(written, -1);
    Arrays.fill(healthWritten, 0);
  }

  /**
   * Creates the maps and loads the program.
   *
   * @param instances how many instances (slots) the program walks when a slot's socket is gone
   * @param flowIdleSeconds how long a UDP flow stays with its instance without a datagram
   * @param migrate whether to load it as {@code BPF_SK_REUSEPORT_SELECT_OR_MIGRATE}, so that it also picks where
   *     a closing listener's queued requests go
   * @throws BpfException with errno EPERM without CAP_BPF, or with the verifier's log when it rejects the program
   */
  public static Selector load(int instances, long flowIdleSeconds, boolean migrate) {
    List<Integer> opened = new ArrayList<>();
    try {
      int table = open(opened, Bpf.createMap(Bpf.MAP_TYPE_ARRAY, 4, 4, SelectorProgram.BUCKETS, "rp_table"));
      int sockets = open(opened, Bpf.createMap(Bpf.MAP_TYPE_REUSEPORT_SOCKARRAY, 4, 4,
          2 * SelectorProgram.MAX_SLOTS, "rp_sockets"));
      int flows = open(opened, Bpf.createMap(Bpf.MAP_TYPE_LRU_HASH, 4,
          SelectorProgram.FLOW_VALUE_BYTES, SelectorProgram.MAX_FLOWS, "rp_flows"));
      int health = open(opened, Bpf.createMap(Bpf.MAP_TYPE_ARRAY, 4, 4, SelectorProgram.MAX_SLOTS, "rp_health"));
      int pinned = open(opened, Bpf.createMap(Bpf.MAP_TYPE_ARRAY, 4, 8, SelectorProgram.MAX_SLOTS, "rp_pinned"));
      byte[] code = SelectorProgram.assemble(instances, flowIdleSeconds).encode(Map.of(SelectorProgram.TABLE, table,
          SelectorProgram.SOCKETS, sockets, SelectorProgram.FLOWS, flows, SelectorProgram.HEALTH, health,
          SelectorProgram.PINNED, pinned));
      int program = Bpf.loadProgram(code, migrate ? Bpf.ATTACH_SK_REUSEPORT_SELECT_OR_MIGRATE
          : Bpf.ATTACH_SK_REUSEPORT_SELECT, "rp_selector");
      Selector selector = new Selector(table, sockets, flows, health, pinned, program);
      // until the first table is written, every bucket says "nobody": the kernel's hash
      selector.writeTable(BucketTable.empty());
      return selector;
    } catch (RuntimeException e) {
      opened.forEach(Bpf::close);
      throw e;
    }
  }

  private static int open(List<Integer> opened, int fd) {
    opened.add(fd);
    return fd;
  }

  /** The socket map's key of instance {@code slot}'s TCP listener or UDP socket. */
  static int key(int slot, boolean udp) {
    if (slot < 0 || slot >= SelectorProgram.MAX_SLOTS) {
      throw new IllegalArgumentException("slot " + slot + " out of 0.." + (SelectorProgram.MAX_SLOTS - 1));
    }
    return udp ? SelectorProgram.UDP_BASE + slot : slot;
  }

  /**
   * Puts a socket in the socket map.
   *
   * @return false when the socket is still in another selector's map (a socket can be in one at a time: after a
   *     takeover, the old process's, until it lets go), true once it is in ours
   */
  public boolean putSocket(int key, int fd) {
    try {
      Bpf.updateElement(socketsFd, key, fd);
      return true;
    } catch (BpfException e) {
      if (e.busy()) {
        return false;
      }
      throw e;
    }
  }

  /** Takes a socket out of the socket map, so that another process's selector may hold it. */
  public void removeSocket(int key) {
    try {
      Bpf.deleteElement(socketsFd, key);
    } catch (BpfException e) {
      if (!e.noSuchEntry()) {
        throw e;
      }
    }
  }

  /** Makes the program the selector of the group that {@code socketFd} belongs to (once per group). */
  public void attach(int socketFd) {
    Bpf.attachToGroup(socketFd, programFd);
  }

  /** Writes which instances get new traffic (a known UDP flow stays with a healthy one). */
  public void writeHealth(boolean[] healthy) {
    for (int slot = 0; slot < healthy.length; slot++) {
      int value = healthy[slot] ? 1 : 0;
      if (healthWritten[slot] != value) {
        Bpf.updateElement(healthFd, slot, value);
        healthWritten[slot] = value;
      }
    }
  }

  /**
   * Per instance, the datagrams so far of live UDP flows kept there although the table sends their bucket to
   * another instance (moved during a stall, pinned while live). One map read per instance; any thread.
   */
  public long[] pinnedDatagrams(int instances) {
    long[] counts = new long[instances];
    for (int slot = 0; slot < instances; slot++) {
      counts[slot] = Bpf.lookupLong(pinnedFd, slot);
    }
    return counts;
  }

  /** Writes the buckets that changed since the last write: one map update each, atomic per entry. */
  public void writeTable(int[] bucketToSlot) {
    for (int bucket = 0; bucket < written.length; bucket++) {
      if (written[bucket] != bucketToSlot[bucket]) {
        Bpf.updateElement(tableFd, bucket, bucketToSlot[bucket]);
        written[bucket] = bucketToSlot[bucket];
      }
    }
  }

  /**
   * Closes this process's descriptors of the maps and program. An attached program stays the group's selector (the
   * group holds it) until another is attached or the group's last socket closes.
   */
  @Override
  public void close() {
    Bpf.close(programFd);
    Bpf.close(socketsFd);
    Bpf.close(tableFd);
    Bpf.close(flowsFd);
    Bpf.close(healthFd);
    Bpf.close(pinnedFd);
  }
}
