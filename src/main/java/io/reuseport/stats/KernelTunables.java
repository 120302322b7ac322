package io.reuseport.stats;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The kernel tunables (sysctls, read from {@code /proc/sys}) that decide what an upgrade loses; blocking file
 * reads, call them off the event loop.
 */
public final class KernelTunables {

  private static final Path TCP_MIGRATE_REQ = Path.of("/proc/sys/net/ipv4/tcp_migrate_req");

  private KernelTunables() {
  }

  /**
   * {@code net.ipv4.tcp_migrate_req} of this network namespace: 1 = a closing listener's queued connections move to
   * another listener of its reuseport group, 0 = they are reset; -1 where the kernel has no such setting (< 5.14).
   */
  public static int tcpMigrateReq() {
    try {
      return Integer.parseInt(Files.readString(TCP_MIGRATE_REQ).trim());
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
  }
}
