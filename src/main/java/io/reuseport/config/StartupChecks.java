package io.reuseport.config;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Checks across settings and against the machine that the settings table cannot make on one value: addresses that
 * must resolve, and a service port that must not be the admin port. Run once, when the configuration is loaded.
 */
final class StartupChecks {

  private static final String WILDCARD_V4 = "0.0.0.0";

  private StartupChecks() {
  }

  static void check(ServerConfig config, ConfigSources sources) {
    resolvable(Setting.HOST, config.host(), sources);
    resolvable(Setting.ADMIN_HOST, config.adminHost(), sources);
    if (config.port() != 0 && config.port() == config.adminPort() && overlap(config.host(), config.adminHost())) {
      throw new ConfigException(Setting.ADMIN_PORT.key(), sources.of(Setting.ADMIN_PORT), config.adminPort()
          + " is also the service port ('port', " + sources.of(Setting.PORT) + "); the admin server needs a port"
          + " of its own (0 = pick a free one)");
    }
  }

  private static void resolvable(Setting setting, String host, ConfigSources sources) {
    try {
      InetAddress.getByName(host);
    } catch (UnknownHostException | SecurityException e) {
      throw new ConfigException(setting.key(), sources.of(setting), "'" + host + "' is neither an IP address nor"
          + " a host name that resolves; use an address such as 0.0.0.0, 127.0.0.1, :: or ::1");
    }
  }

  /** Whether two bind addresses can collide on one port: the same, or either a wildcard. */
  private static boolean overlap(String a, String b) {
    return a.equals(b) || isWildcard(a) || isWildcard(b);
  }

  private static boolean isWildcard(String host) {
    try {
      return WILDCARD_V4.equals(host) || InetAddress.getByName(host).isAnyLocalAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
