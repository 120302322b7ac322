package io.reuseport.app;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.reuseport.metrics.ServerMeters;
import io.reuseport.service.HttpServiceProvider;

/**
 * What {@link ReusePortServer#deploy(io.vertx.core.Vertx, io.reuseport.config.ServerConfig, ServerDeployOptions)}
 * deploys besides the instances: the stats collector and the admin server (both by default), and the registry that
 * {@code /metrics} serves.
 */
public final class ServerDeployOptions {

  /** Deploy the stats collector by default. */
  public static final boolean DEFAULT_STATS_COLLECTOR = true;
  /** Deploy the admin server by default. */
  public static final boolean DEFAULT_ADMIN_SERVER = true;

  private boolean statsCollector = DEFAULT_STATS_COLLECTOR;
  private boolean adminServer = DEFAULT_ADMIN_SERVER;
  private PrometheusMeterRegistry meterRegistry;
  private String metricsName;
  private HttpServiceProvider httpService;

  public boolean isStatsCollector() {
    return statsCollector;
  }

  /**
   * Whether to deploy the stats collector (fairness, kernel socket group, the meters of {@code /metrics}). Without
   * it each instance still answers its own snapshot on the event bus ({@code StatsAddresses.instance(id)}).
   */
  public ServerDeployOptions setStatsCollector(boolean statsCollector) {
    this.statsCollector = statsCollector;
    return this;
  }

  public boolean isAdminServer() {
    return adminServer;
  }

  /**
   * Whether to deploy the admin HTTP server on {@code adminHost:adminPort}; it needs the stats collector, since
   * {@code /stats} and {@code /metrics} read it.
   */
  public ServerDeployOptions setAdminServer(boolean adminServer) {
    this.adminServer = adminServer;
    return this;
  }

  /** The registry given, or {@code null}: the server then makes one of its own. */
  public PrometheusMeterRegistry getMeterRegistry() {
    return meterRegistry;
  }

  /**
   * The registry the server's meters go to and {@code /metrics} serves: pass the one given to the Vertx's
   * {@code MicrometerMetricsFactory} to see Vert.x's own metrics there too. Default: a registry of its own.
   */
  public ServerDeployOptions setMeterRegistry(PrometheusMeterRegistry meterRegistry) {
    this.meterRegistry = meterRegistry;
    return this;
  }

  /** The server's name on the registry, or {@code null} (the default): no {@code server} label. */
  public String getMetricsName() {
    return metricsName;
  }

  /**
   * Names the server on its meter registry: every series it registers gets the label {@code server="<name>"}.
   * Needed when several servers share one registry ({@link #setMeterRegistry}): each then needs a name of its own,
   * and a deploy that would register the same series as a server already there fails, saying so. 1 to 64 letters,
   * digits, {@code _ . -}; null for none.
   *
   * @throws IllegalArgumentException for a name that is not one of those
   */
  public ServerDeployOptions setMetricsName(String metricsName) {
    ServerMeters.checkName(metricsName);
    this.metricsName = metricsName;
    return this;
  }

  /** The HTTP service to serve instead of the one the {@code service} setting names; null (the default) for that. */
  public HttpServiceProvider getHttpService() {
    return httpService;
  }

  /**
   * Serves this HTTP service (e.g. a vertx-web {@code Router} per instance) whatever the {@code service} setting
   * says, without listing it in {@code META-INF/services}: for embedding.
   */
  public ServerDeployOptions setHttpService(HttpServiceProvider httpService) {
    this.httpService = httpService;
    return this;
  }
}
