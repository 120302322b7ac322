package io.reuseport.server;

import io.reuseport.config.ServerConfig;
import io.reuseport.config.Setting;

/**
 * The one line that says which socket could not bind, on which address, why, and what to do about it.
 */
public final class BindFailure {

  private BindFailure() {
  }

  /**
   * @param protocol "TCP", "UDP" or both: the socket that failed
   */
  static StartupException of(String protocol, ServerConfig config, Throwable err) {
    if (err instanceof StartupException) {
      return (StartupException) err;
    }
    return new StartupException(Setting.PORT, "cannot bind " + protocol + " " + hostPort(config.host(), config.port())
        + " (setting 'port'): " + reason(err) + hint(err, "a " + protocol + " socket without SO_REUSEPORT, or of"
        + " another user, holds it: pick another --port or stop that process"), err);
  }

  /** host:port, with brackets around an IPv6 address. */
  public static String hostPort(String host, int port) {
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }

  /** "; " + advice when the error is "address in use", else nothing. */
  public static String hint(Throwable err, String advice) {
    return reason(err).toLowerCase(java.util.Locale.ROOT).contains("in use") ? "; " + advice : "";
  }

  private static String reason(Throwable err) {
    return err.getMessage() == null ? err.toString() : err.getMessage();
  }
}
