package io.reuseport.config;

/**
 * A setting that cannot be used. The message is one line that names the setting and what it allows.
 */
public final class ConfigException extends RuntimeException {

  private final String setting;

  public ConfigException(String setting, String message) {
    super("invalid setting '" + setting + "': " + message);
    this.setting = setting;
  }

  public String setting() {
    return setting;
  }
}
