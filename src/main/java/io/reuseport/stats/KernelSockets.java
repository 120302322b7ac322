package io.reuseport.stats;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The kernel's view of the sockets on a port, read from {@code /proc/net/{tcp,tcp6,udp,udp6}}: the members of a
 * port's reuseport group are what the kernel lists there, not what the process believes it bound. Blocking file
 * reads: call it off the event loop.
 */
public final class KernelSockets {

  /** TCP state LISTEN in {@code /proc/net/tcp}. */
  private static final int TCP_LISTEN = 0x0A;
  /** UDP sockets show state 07 (TCP_CLOSE) when unconnected. */
  private static final int UDP_UNCONNECTED = 0x07;

  /** One row of {@code /proc/net/*}. */
  public record Entry(String file, int port, int state, int uid, long inode, long drops) {
  }

  private KernelSockets() {
  }

  /** TCP listeners on {@code port}, IPv4 and IPv6. */
  public static List<Entry> tcpListeners(int port) {
    List<Entry> all = new ArrayList<>(read("tcp", port));
    all.addAll(read("tcp6", port));
    all.removeIf(e -> e.state() != TCP_LISTEN);
    return all;
  }

  /** Unconnected UDP sockets bound to {@code port}, IPv4 and IPv6. */
  public static List<Entry> udpSockets(int port) {
    List<Entry> all = new ArrayList<>(read("udp", port));
    all.addAll(read("udp6", port));
    all.removeIf(e -> e.state() != UDP_UNCONNECTED);
    return all;
  }

  /** Socket inodes this process holds open, from {@code /proc/self/fd}. */
  public static Set<Long> ownInodes() {
    Set<Long> inodes = new HashSet<>();
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
      for (Path fd : fds) {
        try {
          String target = Files.readSymbolicLink(fd).toString();
          if (target.startsWith("socket:[")) {
            inodes.add(Long.parseLong(target.substring(8, target.length() - 1)));
          }
        } catch (IOException | RuntimeException e) {
          // the fd closed while we listed it
        }
      }
    } catch (IOException e) {
      // no /proc/self/fd: nothing is known to be ours
    }
    return inodes;
  }

  static List<Entry> read(String name, int port) {
    List<String> lines;
    try {
      lines = Files.readAllLines(Path.of("/proc/net", name));
    } catch (IOException e) {
      return List.of();
    }
    return parse(name, lines, port);
  }

  static List<Entry> parse(String name, List<String> lines, int port) {
    List<Entry> entries = new ArrayList<>();
    for (int i = 1; i < lines.size(); i++) {
      String line = lines.get(i);
      // most rows are other ports (every connection of the host is listed): look at the local port before splitting
      if (localPort(line) != port) {
        continue;
      }
      String[] f = line.trim().split("\\s+");
      if (f.length < 10) {
        continue;
      }
      long drops = name.startsWith("udp") && f.length > 12 ? Long.parseLong(f[12]) : 0;
      entries.add(new Entry(name, port, Integer.parseInt(f[3], 16), Integer.parseInt(f[7]),
          Long.parseLong(f[9]), drops));
    }
    return entries;
  }

  /** The local port of a row ({@code "  12: 0100007F:2328 ..."}), or -1; no regex, no allocation. */
  static int localPort(String line) {
    int slot = line.indexOf(':');
    if (slot < 0) {
      return -1;
    }
    int start = slot + 1;
    while (start < line.length() && line.charAt(start) == ' ') {
      start++;
    }
    int end = line.indexOf(' ', start);
    int colon = line.lastIndexOf(':', end < 0 ? line.length() : end);
    if (end < 0 || colon <= start) {
      return -1;
    }
    int value = 0;
    for (int c = colon + 1; c < end; c++) {
      int digit = Character.digit(line.charAt(c), 16);
      if (digit < 0) {
        return -1;
      }
      value = value * 16 + digit;
    }
    return value;
  }
}
