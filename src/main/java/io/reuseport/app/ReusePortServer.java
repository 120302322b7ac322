package io.reuseport.app;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.reuseport.admin.AdminServer;
import io.reuseport.admin.AdminServerOptions;
import io.reuseport.admin.HttpMeters;
import io.reuseport.admin.StatsMeters;
import io.reuseport.config.ServerConfig;
import io.reuseport.config.Setting;
import io.reuseport.metrics.ServerMeters;
import io.reuseport.server.BindFailure;
import io.reuseport.server.FdBudget;
import io.reuseport.server.InheritedSockets;
import io.reuseport.server.ServerInstances;
import io.reuseport.server.StartupException;
import io.reuseport.service.HttpServiceProvider;
import io.reuseport.service.Services;
import io.reuseport.stats.StatsCollector;
import io.reuseport.stats.StatsCollectorOptions;
import io.reuseport.steer.Steering;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.transport.Transport;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The server's public entry point and composition root: it starts a server in a Vertx of its own ({@link #start})
 * or deploys one into the caller's ({@link #deploy}), wiring together what the packages below provide. The admin
 * server first (answering 503 on readiness while starting), then the instances ({@code ServerInstances}: instance 0
 * binds first, so that port 0 becomes one actual port, the others join the port it got), the steering around them,
 * then the stats collector, which watches that port. Nothing below this package imports it.
 */
public final class ReusePortServer {

  static {
    // before this class's first use creates a Vert.x: an embedder or a test starts here, not in Main
    NettyDefaults.apply();
  }

  private static final Logger LOG = LoggerFactory.getLogger(ReusePortServer.class);
  /** Marks a Vertx that hosts a server: the stats addresses on its event bus exist once per Vertx. */
  private static final String HOSTED_MAP = "io.reuseport.server";
  private static final String HOSTED_KEY = "hosted";

  private ReusePortServer() {
  }

  /**
   * Starts the server described by {@code config} in a Vertx of its own, which {@link RunningServer#stop()}
   * closes. On failure nothing is left running or listening.
   */
  public static Future<RunningServer> start(ServerConfig config) {
    return start(config, InheritedSockets.none());
  }

  /**
   * Starts a server that serves {@code inherited} sockets (received from the process it takes over) instead of
   * binding its own; {@code config.port()} must be their port. Instances without a share bind their own sockets on
   * that port.
   */
  public static Future<RunningServer> start(ServerConfig config, InheritedSockets inherited) {
    return start(config, inherited, new ServerState());
  }

  /**
   * Same, reporting into {@code state}: a stop asked for there before start-up completes keeps readiness down.
   */
  public static Future<RunningServer> start(ServerConfig config, InheritedSockets inherited, ServerState state) {
    Transport transport;
    try {
      Services.check(config.service());
      transport = TransportChoice.pick(config);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Vertx vertx = Vertx.builder()
        .with(new VertxOptions()
            // one loop per instance, plus one for the admin server and the stats collector: a stalled instance
            // must not silence the report of its own stall
            .setEventLoopPoolSize(config.instances() + 1)
            .setPreferNativeTransport(true)
            // vertx-micrometer-metrics 5.0.7 registers its gauges again for every event-bus consumer, connection
            // and request, and Micrometer 1.15 warns about each re-registration. Off, so: the event bus (it only
            // carries this server's stats), the HTTP server (the admin port; reuseport_admin_* covers it) and the
            // net server (shared mode; reuseport_tcp_* counts its connections as in reuseport mode)
            .setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)
                .addDisabledMetricsCategory(MetricsDomain.EVENT_BUS)
                .addDisabledMetricsCategory(MetricsDomain.HTTP_SERVER)
                .addDisabledMetricsCategory(MetricsDomain.NET_SERVER)))
        .withTransport(transport)
        .withMetrics(new MicrometerMetricsFactory(registry))
        .build();
    if (transport != Transport.NIO && !vertx.isNativeTransportEnabled()) {
      vertx.close();
      return Future.failedFuture(new StartupException("native transport " + transport.name()
          + " did not load: " + vertx.unavailableNativeTransportCause()));
    }
    // completed without a Vert.x context: on failure, Vert.x closes and its event loops can no longer run callbacks
    Promise<RunningServer> result = Promise.promise();
    deploy(vertx, config, new ServerDeployOptions().setMeterRegistry(registry), inherited, state)
        .onComplete(started -> {
          if (started.failed()) {
            result.fail(started.cause());
            vertx.close();
          } else {
            result.complete(started.result().closingVertxOnStop());
          }
        });
    return result.future();
  }

  /**
   * Deploys the server described by {@code config} into the caller's {@code vertx}, with the stats collector and
   * the admin server. See {@link #deploy(Vertx, ServerConfig, ServerDeployOptions)}.
   */
  public static Future<RunningServer> deploy(Vertx vertx, ServerConfig config) {
    return deploy(vertx, config, new ServerDeployOptions());
  }

  /**
   * Deploys the server described by {@code config} into the caller's {@code vertx}: one verticle per instance, and
   * the stats collector and admin server as {@code options} say. {@link RunningServer#stop()} drains and undeploys
   * what this deployed and leaves {@code vertx} running.
   *
   * <p>The future fails, with nothing left deployed or bound, when {@code vertx} cannot host the server as
   * configured: reuseport balancing needs a native transport (the one {@code config.transport()} names, epoll for
   * auto), each instance needs an event loop of its own ({@code instances} at least, one more keeps the admin server
   * and collector off them: {@code VertxOptions.setEventLoopPoolSize}), and one Vertx hosts one server (the stats
   * addresses on its event bus are fixed).
   */
  public static Future<RunningServer> deploy(Vertx vertx, ServerConfig config, ServerDeployOptions options) {
    return deploy(vertx, config, options, InheritedSockets.none(), new ServerState());
  }

  private static Future<RunningServer> deploy(Vertx vertx, ServerConfig requested, ServerDeployOptions options,
                                             InheritedSockets inherited, ServerState state) {
    String transport;
    Steering steering;
    ServerConfig config;
    HttpServiceProvider http;
    ServerMeters claimed = null;
    try {
      config = FdBudget.fit(requested);
      if (options.isAdminServer() && !options.isStatsCollector()) {
        throw new IllegalArgumentException("the admin server reads the stats collector: deploy both or neither");
      }
      http = httpService(config, options);
      transport = HostVertx.check(vertx, config);
      // a second server on a shared registry without a name of its own would read the first one's meters
      claimed = ServerMeters.claim(options.getMeterRegistry() != null ? options.getMeterRegistry()
          : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), options.getMetricsName());
      // before anything binds: steering=bpf without the selector must not half-start
      steering = Steering.prepare(config);
      claim(vertx);
    } catch (RuntimeException e) {
      if (claimed != null) {
        claimed.close();
      }
      return Future.failedFuture(e);
    }
    ServerMeters meters = claimed;
    List<String> deployments = new CopyOnWriteArrayList<>();
    // a server that can be taken over shares its admin port with the process taking over (SO_REUSEPORT), so that
    // the fixed admin port answers throughout; the old process closes its admin listener once it hands over
    boolean adminReusePort = !config.controlSocket().isEmpty();
    AdminServer admin = options.isAdminServer() ? new AdminServer(new AdminServerOptions(config.adminHost(),
        config.adminPort(), config.instances(), StatsCollector.FRESH_TIMEOUT_MS + 2_000, adminReusePort,
        config.maxAdminConnections()), state, meters) : null;

    Future<?> adminStarted = admin == null ? Future.succeededFuture() : vertx.deployVerticle(admin)
        .onSuccess(deployments::add)
        .recover(err -> Future.failedFuture(new StartupException(Setting.ADMIN_PORT, "cannot start the admin server"
            + " on " + BindFailure.hostPort(config.adminHost(), config.adminPort()) + " (setting 'adminPort'): "
            + err.getMessage() + BindFailure.hint(err, "another process holds it: pick another --admin-port"), err)));
    return adminStarted
        .compose(adminId -> ServerInstances.deploy(vertx, config, inherited, steering, http))
        .compose(instances -> {
          instances.bound().forEach(b -> deployments.add(b.deploymentId()));
          // shared mode has no sockets of its own to steer (and its steering is the kernel's hash)
          steering.start(steering.active() ? instances.selectorSockets() : List.of());
          steering.bindMeters(meters);
          ServerConfig actual = config.withPort(instances.port());
          Future<?> collectorStarted = Future.succeededFuture();
          if (options.isStatsCollector()) {
            StatsCollector collector = new StatsCollector(new StatsCollectorOptions(config.instances(), transport,
                config.balancing().id(), actual.port(), config.statsIntervalMs(), config.fairnessWarnBelow(),
                config.fairnessMinSample(), http != null), steering::toJson);
            StatsMeters.bind(meters, collector, config.instances());
            if (http != null) {
              HttpMeters.bind(meters, collector, config.instances());
            }
            steering.bindLockedOut(meters, () -> collector.selectorReplaced() ? 0 : collector.group().foreignTcp(),
                () -> collector.selectorReplaced() ? 0 : collector.group().foreignUdp());
            collectorStarted = vertx.deployVerticle(collector)
                .onSuccess(deployments::add)
                .onSuccess(id -> checkCollectorLoop(collector, instances));
          }
          return collectorStarted.map(id -> new RunningServer(vertx, actual, instances, transport, state, meters,
              admin, deployments, steering));
        })
        .onSuccess(running -> {
          if (!state.markReady()) {
            LOG.info("started on port {}, but a stop was asked for: not ready", running.port());
            return;
          }
          int count = running.instances().size();
          LOG.info("ready: transport {}, balancing {}, {} instance{}, port {}, admin port {}", running.transport(),
              config.balancing().id(), count, count == 1 ? "" : "s", running.port(), running.adminPort());
        })
        .recover(err -> {
          steering.close();
          meters.close();
          return undeployAll(vertx, deployments).transform(x -> Future.failedFuture(err));
        });
  }

  /** The HTTP service to serve: the one embedded, or the one the setting names; null for a byte service. */
  private static HttpServiceProvider httpService(ServerConfig config, ServerDeployOptions options) {
    if (options.getHttpService() != null) {
      return options.getHttpService();
    }
    Services.check(config.service());
    return Services.isHttp(config.service()) ? Services.findHttp(config.service()) : null;
  }

  /** Undeploys, last first, what a server deployed into {@code vertx}, and frees {@code vertx} for another. */
  static Future<Void> undeployAll(Vertx vertx, List<String> deployments) {
    Future<Void> chain = Future.succeededFuture();
    for (int i = deployments.size() - 1; i >= 0; i--) {
      String id = deployments.get(i);
      chain = chain.transform(x -> vertx.undeploy(id));
    }
    return chain.andThen(x -> vertx.sharedData().getLocalMap(HOSTED_MAP).remove(HOSTED_KEY));
  }

  private static void claim(Vertx vertx) {
    if (vertx.sharedData().getLocalMap(HOSTED_MAP).putIfAbsent(HOSTED_KEY, Boolean.TRUE) != null) {
      throw new StartupException("this Vertx already hosts a reuseport server: one server per Vertx (the stats"
          + " addresses on its event bus are fixed); stop it first or use another Vertx");
    }
  }

  /**
   * Vert.x hands out event loops round robin: the admin server got the first, the instances the next ones, so the
   * collector wraps around to the admin server's. Warn should that ever change.
   */
  private static void checkCollectorLoop(StatsCollector collector, ServerInstances instances) {
    if (instances.bound().stream().anyMatch(b -> b.eventLoop().equals(collector.eventLoop()))) {
      LOG.warn("the stats collector shares event loop {} with an instance: a stall of that instance also stalls"
          + " the stats", collector.eventLoop());
    }
  }
}
