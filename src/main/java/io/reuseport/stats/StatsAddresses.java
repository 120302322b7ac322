package io.reuseport.stats;

/**
 * Event-bus addresses of the stats path.
 */
public final class StatsAddresses {

  /** Where every instance publishes its snapshot each stats interval. */
  public static final String SNAPSHOTS = "reuseport.stats.snapshot";

  private StatsAddresses() {
  }

  /** Where instance {@code id} answers a request for a fresh snapshot. */
  public static String instance(int id) {
    return "reuseport.stats.instance." + id;
  }
}
