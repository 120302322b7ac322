package io.reuseport.stats;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The port's reuseport group as the kernel lists it: how many TCP listeners and UDP sockets are bound on the port,
 * how many are this process's, how many belong to another process (a process of the same user joins silently and
 * takes a share of the traffic), and each UDP socket's kernel drop count.
 *
 * @param udpDropsByFd kernel drops of this process's UDP sockets on the port, by file descriptor
 */
public record PortGroup(int tcpListeners, int udpSockets, int foreignTcp, int foreignUdp,
                        Map<Integer, Long> udpDropsByFd) {

  /** Reads {@code /proc}; blocking, call it off the event loop. */
  public static PortGroup read(int port, List<Integer> ourUdpFds) {
    Set<Long> own = KernelSockets.ownInodes();
    List<KernelSockets.Entry> tcp = KernelSockets.tcpListeners(port);
    List<KernelSockets.Entry> udp = KernelSockets.udpSockets(port);
    Map<Long, Long> dropsByInode = new HashMap<>();
    udp.forEach(e -> dropsByInode.put(e.inode(), e.drops()));
    Map<Integer, Long> dropsByFd = new HashMap<>();
    for (int fd : ourUdpFds) {
      Long inode = inodeOf(fd);
      if (inode != null && dropsByInode.containsKey(inode)) {
        dropsByFd.put(fd, dropsByInode.get(inode));
      }
    }
    return new PortGroup(tcp.size(), udp.size(),
        (int) tcp.stream().filter(e -> !own.contains(e.inode())).count(),
        (int) udp.stream().filter(e -> !own.contains(e.inode())).count(),
        Map.copyOf(dropsByFd));
  }

  public static PortGroup unknown() {
    return new PortGroup(0, 0, 0, 0, Map.of());
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
        .put("foreignUdp", foreignUdp);
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
