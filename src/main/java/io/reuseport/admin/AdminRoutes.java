package io.reuseport.admin;

import java.util.List;

/**
 * The paths the admin HTTP server serves. Probes, manifests and tests refer to these constants.
 */
public final class AdminRoutes {

  public static final String DASHBOARD = "/";
  public static final String STATS = "/stats";
  public static final String METRICS = "/metrics";
  public static final String EVENTS = "/events";
  public static final String LIVE = "/health/live";
  public static final String READY = "/health/ready";

  private AdminRoutes() {
  }

  /** Every GET path the admin server answers. */
  public static List<String> all() {
    return List.of(DASHBOARD, STATS, METRICS, EVENTS, LIVE, READY);
  }
}
