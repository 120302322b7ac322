package io.reuseport.stats;

/**
 * Event-bus addresses of the stats path.
 */
public final class StatsAddresses {

  /** Where every instance publishes its snapshot each stats interval. */
  public static final String SNAPSHOTS = "reuseport.stats.snapshot";

  /** Where the collector answers with the whole report; body {@code {"fresh": true}} asks every instance first. */
  public static final String QUERY = "reuseport.stats.query";

  /** Where the collector publishes its whole report every interval (for server-sent events). */
  public static final String REPORTS = "reuseport.stats.report";

  private StatsAddresses() {
  }

  /** Where instance {@code id} answers a request for a fresh snapshot. */
  public static String instance(int id) {
    return "reuseport.stats.instance." + id;
  }
}
