package io.reuseport.server;

import com.sun.management.UnixOperatingSystemMXBean;
import io.reuseport.config.ServerConfig;
import io.reuseport.config.Setting;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;

/**
 * Fits the connection caps into the file descriptor limit (RLIMIT_NOFILE), so that the service port at its limit
 * cannot take the descriptors the admin server needs for {@code /stats} and the health probes, nor the reverse.
 *
 * <p>The JVM has already raised the soft limit to the hard one at start ({@code -XX:+MaxFDLimit}, its default).
 * When {@code instances × maxConnectionsPerInstance + maxAdminConnections} plus what the process needs for itself
 * (what is open now, each class path entry, 5 per event loop, {@link #HEADROOM}) does not fit in the limit, the
 * per-instance cap is lowered to what fits and a warning says so and what to raise; when not even one connection
 * per instance fits, start-up fails.
 */
public final class FdBudget {

  private static final Logger LOG = LoggerFactory.getLogger(FdBudget.class);
  /** Descriptors kept free beyond the caps: logs, the control socket, /proc reads, connections being rejected. */
  static final int HEADROOM = 64;
  /** Per event loop: its epoll, an eventfd and a timerfd; per instance also a TCP listener and a UDP socket. */
  static final int PER_LOOP = 5;

  private FdBudget() {
  }

  /** The configuration, with {@code maxConnectionsPerInstance} lowered if the limit cannot hold it. */
  public static ServerConfig fit(ServerConfig config) {
    long limit = limit();
    if (limit <= 0) {
      return config;
    }
    long reserved = open() + classPathEntries() + config.maxAdminConnections() + HEADROOM
        + (long) PER_LOOP * (config.instances() + 1);
    long needed = (long) config.instances() * config.maxConnectionsPerInstance() + reserved;
    if (needed <= limit) {
      LOG.debug("file descriptors: limit {}, need at most {}", limit, needed);
      return config;
    }
    long perInstance = (limit - reserved) / config.instances();
    if (perInstance < 1) {
      throw new StartupException(Setting.MAX_CONNECTIONS_PER_INSTANCE, "the file descriptor limit " + limit
          + " (RLIMIT_NOFILE) leaves no room for connections: " + reserved + " are in use or reserved for the admin"
          + " server (maxAdminConnections " + config.maxAdminConnections() + ") and the event loops; raise it"
          + " (ulimit -n, systemd LimitNOFILE=, the container's nofile ulimit) or lower maxAdminConnections", null);
    }
    LOG.warn("file descriptor limit {} (RLIMIT_NOFILE) is below {} instance{} x {} connections + {} admin connections"
        + " + {} for the process: serving at most {} connections per instance, so that /stats and the health probes"
        + " still answer at that limit; raise the limit to {} (ulimit -n, systemd LimitNOFILE=, the container's nofile"
        + " ulimit) for the configured {}", limit, config.instances(), config.instances() == 1 ? "" : "s",
        config.maxConnectionsPerInstance(), config.maxAdminConnections(),
        reserved - config.maxAdminConnections(), perInstance, needed, config.maxConnectionsPerInstance());
    return config.withMaxConnectionsPerInstance((int) perInstance);
  }

  /** "limit N", for log lines about descriptors (counting the open ones may itself fail at the limit). */
  static String describeLimit() {
    long limit = limit();
    return limit <= 0 ? "limit unknown" : "limit " + limit;
  }

  /** The JVM opens each jar of the class path when it first loads a class from it, which may be later. */
  private static long classPathEntries() {
    String path = System.getProperty("java.class.path", "");
    return path.isEmpty() ? 0 : path.split(File.pathSeparator).length;
  }

  private static long limit() {
    OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    return os instanceof UnixOperatingSystemMXBean ? ((UnixOperatingSystemMXBean) os).getMaxFileDescriptorCount()
        : -1;
  }

  private static long open() {
    OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    return os instanceof UnixOperatingSystemMXBean ? ((UnixOperatingSystemMXBean) os).getOpenFileDescriptorCount()
        : 0;
  }
}
