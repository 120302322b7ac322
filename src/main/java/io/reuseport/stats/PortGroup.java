package io.reuseport.stats;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The port's reuseport group as the kernel lists it: how many TCP listeners and UDP sockets are bound on the port,
 * how many are this process's, how many belong to another process (a process of the same user joins silently and
 * takes a share of the traffic), and each UDP socket's kernel drop count.
 *
 * <p>Reading it takes file descriptors ({@code /proc/self/fd}, {@code /proc/net/*}): at the descriptor limit the
 * read fails, and the group is the last one read, marked {@link #unavailable} with the reason, rather than an
 * empty group (or one where every socket looks foreign, when only {@code /proc/self/fd} could not be opened).
 *
 * @param udpDropsByFd kernel drops of this process's UDP sockets on the port, by file descriptor
 * @param foreignConnections inodes of the connections on the port that another process accepted, read only while
 *     a foreign TCP listener is in the group (empty otherwise)
 * @param unavailable why the last read failed (these are the figures of the read before it), or null
 */
public record PortGroup(int tcpListeners, int udpSockets, int foreignTcp, int foreignUdp,
                        Map<Integer, Long> udpDropsByFd, Set<Long> foreignConnections, String unavailable) {

  public PortGroup(int tcpListeners, int udpSockets, int foreignTcp, int foreignUdp, Map<Integer, Long> udpDropsByFd) {
    this(tcpListeners, udpSockets, foreignTcp, foreignUdp, udpDropsByFd, Set.of(), null);
  }

  /**
   * Reads {@code /proc}; blocking, call it off the event loop.
   *
   * @throws java.io.UncheckedIOException when a file cannot be read (e.g. EMFILE at the descriptor limit)
   */
  public static PortGroup read(int port, List<Integer> ourUdpFds) {
    List<KernelSockets.Entry> tcp = KernelSockets.tcpListeners(port);
    List<KernelSockets.Entry> udp = KernelSockets.udpSockets(port);
    Set<Long> members = new HashSet<>();
    tcp.forEach(e -> members.add(e.inode()));
    udp.forEach(e -> members.add(e.inode()));
    Set<Long> own = KernelSockets.ownAmong(members);
    Map<Long, Long> dropsByInode = new HashMap<>();
    udp.forEach(e -> dropsByInode.put(e.inode(), e.drops()));
    Map<Integer, Long> dropsByFd = new HashMap<>();
    for (int fd : ourUdpFds) {
      Long inode = inodeOf(fd);
      if (inode != null && dropsByInode.containsKey(inode)) {
        dropsByFd.put(fd, dropsByInode.get(inode));
      }
    }
    int foreignTcp = (int) tcp.stream().filter(e -> !own.contains(e.inode())).count();
    Set<Long> foreignConnections = new HashSet<>();
    if (foreignTcp > 0) {
      // every row of the port, which under churn is many: only while another process shares it. Ours are what we
      // hold between two reads: one we accepted or closed in the meantime would otherwise look foreign
      KernelSockets.acceptedConnections(port).forEach(e -> foreignConnections.add(e.inode()));
      foreignConnections.removeAll(KernelSockets.ownInodes());
      foreignConnections.retainAll(KernelSockets.acceptedConnections(port).stream()
          .map(KernelSockets.Entry::inode).toList());
    }
    return new PortGroup(tcp.size(), udp.size(), foreignTcp,
        (int) udp.stream().filter(e -> !own.contains(e.inode())).count(),
        Map.copyOf(dropsByFd), Set.copyOf(foreignConnections), null);
  }

  public static PortGroup unknown() {
    return new PortGroup(0, 0, 0, 0, Map.of());
  }

  /** These figures, marked as not read this time, and why. */
  public PortGroup unavailable(String why) {
    return new PortGroup(tcpListeners, udpSockets, foreignTcp, foreignUdp, udpDropsByFd, foreignConnections, why);
  }

  public boolean hasForeignMembers() {
    return foreignTcp > 0 || foreignUdp > 0;
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("tcpListeners", tcpListeners)
        .put("udpSockets", udpSockets)
        .put("ourTcp", tcpListeners - foreignTcp)
        .put("ourUdp", udpSockets - foreignUdp)
        .put("foreignTcp", foreignTcp)
        .put("foreignUdp", foreignUdp)
        .put("available", unavailable == null)
        .put("unavailable", unavailable);
  }

  private static Long inodeOf(int fd) {
    try {
      String target = Files.readSymbolicLink(Path.of("/proc/self/fd", Integer.toString(fd))).toString();
      return target.startsWith("socket:[") ? Long.parseLong(target.substring(8, target.length() - 1)) : null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }
}
