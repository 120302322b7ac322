package io.reuseport.config;

/**
 * A setting that cannot be used. The message is one line that names the setting, where its value came from (when
 * known) and what it allows.
 */
public final class ConfigException extends RuntimeException {

  private final String setting;
  private final String reason;

  public ConfigException(String setting, String message) {
    this(setting, null, message);
  }

  /**
   * @param source where the value came from, e.g. {@code flag --port} or {@code environment variable
   *     REUSEPORT_PORT}; null when unknown
   */
  public ConfigException(String setting, String source, String message) {
    super("invalid setting '" + setting + "'" + (source == null ? "" : " (" + source + ")") + ": " + message);
    this.setting = setting;
    this.reason = message;
  }

  public String setting() {
    return setting;
  }

  /** The same error, naming where the value came from. */
  public ConfigException from(String source) {
    return new ConfigException(setting, source, reason);
  }
}
