package io.reuseport.config;

import java.util.EnumMap;
import java.util.Map;

/**
 * Where each setting's value came from, so that an error found later (a port already in use, a host that does not
 * resolve) can name it: {@code flag --port}, {@code environment variable REUSEPORT_PORT}, {@code file
 * conf/config.json} or {@code default}.
 */
public final class ConfigSources {

  private final Map<Setting, String> sources = new EnumMap<>(Setting.class);

  void set(Setting setting, String source) {
    sources.put(setting, source);
  }

  /** Where {@code setting}'s value came from. */
  public String of(Setting setting) {
    return sources.getOrDefault(setting, "default");
  }
}
