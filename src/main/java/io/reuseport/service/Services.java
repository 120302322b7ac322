package io.reuseport.service;

import io.reuseport.config.ConfigException;
import io.reuseport.config.Setting;

import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.Map;

/**
 * The services found on the class path, by name.
 */
public final class Services {

  private Services() {
  }

  /** Every available provider by name, built-in ones included. */
  public static Map<String, ServiceProvider> available() {
    Map<String, ServiceProvider> byName = new TreeMap<>();
    for (ServiceProvider p : ServiceLoader.load(ServiceProvider.class)) {
      byName.putIfAbsent(p.name(), p);
    }
    return byName;
  }

  /**
   * @throws ConfigException when no provider has that name
   */
  public static ServiceProvider find(String name) {
    Map<String, ServiceProvider> byName = available();
    ServiceProvider p = byName.get(name);
    if (p == null) {
      throw new ConfigException(Setting.SERVICE.key(),
          "'" + name + "' is not one of " + String.join(", ", byName.keySet()));
    }
    return p;
  }
}
