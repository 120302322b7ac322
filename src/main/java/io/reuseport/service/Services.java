package io.reuseport.service;

import io.reuseport.config.ConfigException;
import io.reuseport.config.Setting;

import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The services found on the class path, by name: byte services ({@link ServiceProvider}) and HTTP services
 * ({@link HttpServiceProvider}). One name picks one service of either kind; a byte service wins a name both use.
 */
public final class Services {

  private Services() {
  }

  /** Every available byte-service provider by name, built-in ones included. */
  public static Map<String, ServiceProvider> available() {
    Map<String, ServiceProvider> byName = new TreeMap<>();
    for (ServiceProvider p : ServiceLoader.load(ServiceProvider.class)) {
      byName.putIfAbsent(p.name(), p);
    }
    return byName;
  }

  /** Every available HTTP-service provider by name, built-in ones included. */
  public static Map<String, HttpServiceProvider> availableHttp() {
    Map<String, HttpServiceProvider> byName = new TreeMap<>();
    for (HttpServiceProvider p : ServiceLoader.load(HttpServiceProvider.class)) {
      byName.putIfAbsent(p.name(), p);
    }
    return byName;
  }

  /** Whether {@code name} is an HTTP service (and not a byte service of the same name). */
  public static boolean isHttp(String name) {
    return !available().containsKey(name) && availableHttp().containsKey(name);
  }

  /**
   * Checks that a service of either kind has that name.
   *
   * @throws ConfigException when none has
   */
  public static void check(String name) {
    if (!available().containsKey(name) && !availableHttp().containsKey(name)) {
      throw unknown(name);
    }
  }

  /**
   * @throws ConfigException when no byte-service provider has that name
   */
  public static ServiceProvider find(String name) {
    ServiceProvider p = available().get(name);
    if (p == null) {
      throw unknown(name);
    }
    return p;
  }

  /**
   * @throws ConfigException when no HTTP-service provider has that name
   */
  public static HttpServiceProvider findHttp(String name) {
    HttpServiceProvider p = availableHttp().get(name);
    if (p == null) {
      throw unknown(name);
    }
    return p;
  }

  private static ConfigException unknown(String name) {
    TreeSet<String> names = new TreeSet<>(available().keySet());
    names.addAll(availableHttp().keySet());
    return new ConfigException(Setting.SERVICE.key(), "'" + name + "' is not one of " + String.join(", ", names));
  }
}
