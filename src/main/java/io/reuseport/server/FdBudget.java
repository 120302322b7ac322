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
 * per-instance cap is lowered to what fits, and a line says so: a warning with every number that went into it when
 * the cap had to go below {@link #SHORT_SHARE} of the configured one, one short info line (the figures at DEBUG)
 * when it is only trimmed (the default 2 × 10,000 under a limit of 20,000 loses 2 %; the cap is a ceiling, not a
 * target). When not even one
 * connection per instance fits, start-up fails.
 */
public final class FdBudget {

  private static final Logger LOG = LoggerFactory.getLogger(FdBudget.class);
  /** Descriptors kept free beyond the caps: logs, the control socket, /proc reads, connections being rejected. */
  static final int HEADROOM = 64;
  /** Per event loop: its epoll, an eventfd and a timerfd; per instance also a TCP listener and a UDP socket. */
  static final int PER_LOOP = 5;
  /** A lowered cap below this share of the configured one is worth a warning; above it, an info line. */
  static final double SHORT_SHARE = 0.9;

  private FdBudget() {
  }

  /** The configuration, with {@code maxConnectionsPerInstance} lowered if the limit cannot hold it. */
  public static ServerConfig fit(ServerConfig config) {
    long limit = limit();
    if (limit <= 0) {
      return config;
    }
    Fit fit = new Fit(limit, open(), classPathEntries(), config.instances() + 1, config.maxAdminConnections(),
        config.instances(), config.maxConnectionsPerInstance());
    if (fit.fits()) {
      LOG.debug("file descriptors: limit {}, need at most {}", limit, fit.needed());
      return config;
    }
    if (fit.perInstance() < 1) {
      throw new StartupException(Setting.MAX_CONNECTIONS_PER_INSTANCE, "the file descriptor limit " + limit
          + " (RLIMIT_NOFILE) leaves no room for connections: " + fit.reserved() + " are in use or reserved for the"
          + " admin server (maxAdminConnections " + config.maxAdminConnections() + ") and the event loops; raise it"
          + " (ulimit -n, systemd LimitNOFILE=, the container's nofile ulimit) or lower maxAdminConnections", null);
    }
    if (fit.reallyShort()) {
      LOG.warn("{}", fit.message());
    } else {
      // the defaults under a common limit land here at every start: one short line, the figures at DEBUG
      LOG.info("{}", fit.shortMessage());
      LOG.debug("{}", fit.message());
    }
    return config.withMaxConnectionsPerInstance((int) fit.perInstance());
  }

  /**
   * How the descriptors of one process divide up.
   *
   * @param limit RLIMIT_NOFILE
   * @param openNow descriptors open when the server starts
   * @param classPath class path entries (a jar is opened when the JVM first loads a class from it)
   * @param eventLoops one per instance, one for the admin server and the collector
   * @param admin maxAdminConnections
   * @param configured maxConnectionsPerInstance as configured
   */
  record Fit(long limit, long openNow, long classPath, int eventLoops, int admin, int instances, int configured) {

    /** What the process needs for itself. */
    long forTheProcess() {
      return openNow + classPath + (long) PER_LOOP * eventLoops + HEADROOM;
    }

    long reserved() {
      return forTheProcess() + admin;
    }

    /** The limit that holds the configured caps. */
    long needed() {
      return (long) instances * configured + reserved();
    }

    boolean fits() {
      return needed() <= limit;
    }

    long perInstance() {
      return Math.min(configured, (limit - reserved()) / instances);
    }

    boolean reallyShort() {
      return perInstance() < SHORT_SHARE * configured;
    }

    /** The trimmed cap in one short line, for a trim that costs little. */
    String shortMessage() {
      return String.format("file descriptor limit %d: serving at most %d connections per instance (configured %d)",
          limit, perInstance(), configured);
    }

    String message() {
      return String.format("file descriptor limit %d (RLIMIT_NOFILE) is below %d instance%s x %d connections + %d"
          + " admin connections + %d for the process (%d open now, %d class path entries, %d event loops x %d, %d"
          + " spare): serving at most %d connections per instance (%d%% of the configured %d), so that /stats"
          + " and the health probes still answer at that limit; raise the limit to %d (ulimit -n, systemd"
          + " LimitNOFILE=, the container's nofile ulimit) for the configured caps",
          limit, instances, instances == 1 ? "" : "s", configured, admin, forTheProcess(), openNow, classPath,
          eventLoops, PER_LOOP, HEADROOM, perInstance(), 100 * perInstance() / configured, configured,
          needed());
    }
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
