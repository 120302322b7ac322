package io.reuseport.stats;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The kernel's view of the sockets on a port, read from {@code /proc/net/{tcp,tcp6,udp,udp6}}: the members of a
 * port's reuseport group are what the kernel lists there, not what the process believes it bound. Blocking file
 * reads: call it off the event loop. A file that cannot be read (other than one that does not exist) throws
 * {@link UncheckedIOException}: at the descriptor limit "nothing read" is not "no sockets".
 */
public final class KernelSockets {

  /** TCP state ESTABLISHED in {@code /proc/net/tcp}. */
  private static final int TCP_ESTABLISHED = 0x01;
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
    List<Entry> all = new ArrayList<>(read("tcp", port, true));
    all.addAll(read("tcp6", port, true));
    all.removeIf(e -> e.state() != TCP_LISTEN);
    return all;
  }

  /** Unconnected UDP sockets bound to {@code port}, IPv4 and IPv6. */
  public static List<Entry> udpSockets(int port) {
    List<Entry> all = new ArrayList<>(read("udp", port, false));
    all.addAll(read("udp6", port, false));
    all.removeIf(e -> e.state() != UDP_UNCONNECTED);
    return all;
  }

  /**
   * Accepted TCP connections on {@code port} that a process holds (a connection still in an accept queue has no
   * inode yet), IPv4 and IPv6. Reads every row of the port, not only the listeners: call it when it matters.
   */
  public static List<Entry> acceptedConnections(int port) {
    List<Entry> all = new ArrayList<>(read("tcp", port, false));
    all.addAll(read("tcp6", port, false));
    all.removeIf(e -> e.state() != TCP_ESTABLISHED || e.inode() == 0);
    return all;
  }

  /** Socket inodes this process holds open, from {@code /proc/self/fd}: one {@code readlink} per descriptor. */
  public static Set<Long> ownInodes() {
    return ownAmong(null);
  }

  /**
   * Which of {@code wanted} (null: every socket) this process holds open. The kernel lists {@code /proc/self/fd} in
   * descriptor order and the port's listeners and UDP sockets are among the first descriptors a server opens, so
   * the listing stops once all of {@code wanted} are found: a check of the group costs a few {@code readlink}s, not
   * one per open connection. Only a socket that is not ours makes it read to the end.
   */
  public static Set<Long> ownAmong(Set<Long> wanted) {
    Set<Long> inodes = new HashSet<>();
    if (wanted != null && wanted.isEmpty()) {
      return inodes;
    }
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
      for (Path fd : fds) {
        try {
          String target = Files.readSymbolicLink(fd).toString();
          if (target.startsWith("socket:[")) {
            long inode = Long.parseLong(target.substring(8, target.length() - 1));
            if (wanted == null || wanted.contains(inode)) {
              inodes.add(inode);
            }
            if (wanted != null && inodes.size() == wanted.size()) {
              break;
            }
          }
        } catch (IOException | RuntimeException e) {
          // the fd closed while we listed it
        }
      }
    } catch (NoSuchFileException e) {
      // no /proc/self/fd: nothing is known to be ours
    } catch (IOException e) {
      // e.g. EMFILE at the descriptor limit: an empty set would make every socket on the port look foreign
      throw new UncheckedIOException(e);
    }
    return inodes;
  }

  /**
   * Reads {@code /proc/net/NAME} a row at a time. With {@code listenersOnly} it stops at the first row that is not a
   * listener: the kernel lists its listening hash before its established one (tcp_get_idx in net/ipv4/tcp_ipv4.c,
   * shared by tcp6), and under churn the rest is thousands of TIME_WAIT rows read every few seconds for nothing.
   */
  static List<Entry> read(String name, int port, boolean listenersOnly) {
    List<String> rows = new ArrayList<>();
    rows.add("header");
    try (BufferedReader in = Files.newBufferedReader(Path.of("/proc/net", name))) {
      in.readLine();
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        if (listenersOnly && state(line) != TCP_LISTEN) {
          break;
        }
        if (localPort(line) == port) {
          rows.add(line);
        }
      }
    } catch (NoSuchFileException e) {
      // e.g. no tcp6 without IPv6: no such sockets
      return List.of();
    } catch (IOException e) {
      // e.g. EMFILE at the descriptor limit: not the same as no sockets on the port
      throw new UncheckedIOException(e);
    }
    return parse(name, rows, port);
  }

  /** The state column of a row (its fourth field, hex), or -1; no regex, no allocation. */
  static int state(String line) {
    int at = 0;
    for (int field = 0; field < 3; field++) {
      while (at < line.length() && line.charAt(at) == ' ') {
        at++;
      }
      while (at < line.length() && line.charAt(at) != ' ') {
        at++;
      }
    }
    while (at < line.length() && line.charAt(at) == ' ') {
      at++;
    }
    int value = 0;
    int digits = 0;
    for (; at < line.length() && line.charAt(at) != ' '; at++, digits++) {
      int digit = Character.digit(line.charAt(at), 16);
      if (digit < 0) {
        return -1;
      }
      value = value * 16 + digit;
    }
    return digits == 0 ? -1 : value;
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
