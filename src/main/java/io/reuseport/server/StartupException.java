package io.reuseport.server;

import io.reuseport.config.Setting;

/**
 * The server cannot start; the message is one line that says why and what to do.
 */
public final class StartupException extends RuntimeException {

  private final transient Setting setting;

  public StartupException(String message) {
    this(null, message, null);
  }

  public StartupException(String message, Throwable cause) {
    this(null, message, cause);
  }

  /**
   * @param setting the setting whose value could not be used (a port in use, say), or null
   */
  public StartupException(Setting setting, String message, Throwable cause) {
    super(message, cause);
    this.setting = setting;
  }

  /** The setting to change, or null when none is to blame. */
  public Setting setting() {
    return setting;
  }
}
