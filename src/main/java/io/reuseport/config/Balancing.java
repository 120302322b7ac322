package io.reuseport.config;

/**
 * How connections reach the server instances.
 */
public enum Balancing {
  /** One kernel socket per instance in one {@code SO_REUSEPORT} group: the kernel's 4-tuple hash picks the instance. */
  REUSEPORT,
  /** Vert.x's own {@code NetServer} sharing: one listener, connections handed round robin to the instances. */
  SHARED;

  public String id() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
