package io.reuseport.admin;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.reuseport.metrics.ServerMeters;
import io.reuseport.stats.StatsAddresses;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The admin HTTP server, on its own port: {@code /stats} (JSON), {@code /metrics} (Prometheus), {@code /health/live},
 * {@code /health/ready}, {@code /events} (server-sent stats) and the dashboard. GET and HEAD only; anything else is a
 * JSON 404 or 405. It only reads: nothing it does can take the service down.
 */
public final class AdminServer extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);
  private static final String JSON = "application/json";
  /** How long an instance's event loop may take to answer the liveness probe (under the probes' 2 s timeout). */
  private static final long LIVENESS_TIMEOUT_MS = 1_000;
  private static final int MAX_LINE_BYTES = 4096;
  private static final int MAX_HEADER_BYTES = 8192;

  private final AdminServerOptions options;
  private final Readiness readiness;
  private final PrometheusMeterRegistry registry;
  private final AdminConnections connections;
  private Map<String, Handler<HttpServerRequest>> routes;
  private HttpServer server;
  private volatile int actualPort;

  /** Serves {@code /metrics} from the whole of {@code meters}' registry: other servers sharing it show there too. */
  public AdminServer(AdminServerOptions options, Readiness readiness, ServerMeters meters) {
    this.options = options;
    this.readiness = readiness;
    this.registry = meters.registry();
    this.connections = new AdminConnections(options.maxConnections(), meters);
    meters.gauge(Gauge.builder("reuseport.ready", readiness, s -> s.phase() == Readiness.Phase.READY ? 1 : 0)
        .description("1 while the server is ready (every instance bound, not draining), else 0"));
  }

  @Override
  public Future<?> start() {
    routes = Map.of(
        AdminRoutes.STATS, this::stats,
        AdminRoutes.METRICS, this::metrics,
        AdminRoutes.LIVE, this::live,
        AdminRoutes.READY, this::ready,
        AdminRoutes.EVENTS, new EventStream(vertx)::open,
        AdminRoutes.DASHBOARD, new Dashboard()::serve);
    server = vertx.createHttpServer(new HttpServerOptions()
            .setHost(options.host())
            .setPort(options.port())
            .setMaxInitialLineLength(MAX_LINE_BYTES)
            .setMaxHeaderSize(MAX_HEADER_BYTES)
            .setIdleTimeout(60)
            .setReusePort(options.reusePort()))
        .connectionHandler(connections::opened)
        .requestHandler(this::route)
        .invalidRequestHandler(AdminServer::invalid);
    return server.listen().onSuccess(s -> {
      actualPort = s.actualPort();
      String host = options.host().contains(":") ? "[" + options.host() + "]" : options.host();
      LOG.info("admin server on http://{}:{}{}", host, actualPort, AdminRoutes.STATS);
    });
  }

  /**
   * Stops listening (after a takeover: the new process answers on the same port from now on); requests in flight
   * get up to a second to finish.
   */
  public Future<Void> stopListening() {
    return server == null ? Future.succeededFuture() : server.shutdown(1, TimeUnit.SECONDS);
  }

  /** The admin port actually bound. */
  public int actualPort() {
    return actualPort;
  }

  private void route(HttpServerRequest req) {
    Handler<HttpServerRequest> handler = routes.get(req.path());
    if (handler == null) {
      error(req, 404, "no such path: " + req.path() + "; try " + String.join(", ", AdminRoutes.all()));
    } else if (req.method() != HttpMethod.GET && req.method() != HttpMethod.HEAD) {
      req.response().putHeader("Allow", "GET, HEAD");
      error(req, 405, "method " + req.method() + " not allowed on " + req.path() + "; use GET");
    } else {
      handler.handle(req);
    }
  }

  private void stats(HttpServerRequest req) {
    boolean fresh = "true".equals(req.getParam("fresh"));
    vertx.eventBus().<JsonObject>request(StatsAddresses.QUERY, new JsonObject().put("fresh", fresh),
            new DeliveryOptions().setSendTimeout(options.statsTimeoutMs()))
        .onSuccess(reply -> json(req, 200, reply.body()))
        .onFailure(err -> error(req, 503, "stats unavailable: " + err.getMessage()));
  }

  private void metrics(HttpServerRequest req) {
    // le="0.0005" as Prometheus writes it, not the Java client's le="5.0E-4"
    String text = PrometheusText.canonicalFloatLabels(registry.scrape());
    req.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(text);
  }

  /**
   * 200 while every instance's event loop answers, 503 naming those that do not. An instance that finished its
   * drain has no endpoint any more: it is listed as stopped, not as unresponsive.
   */
  private void live(HttpServerRequest req) {
    List<Future<?>> pings = new ArrayList<>();
    JsonArray unresponsive = new JsonArray();
    JsonArray stopped = new JsonArray();
    DeliveryOptions timeout = new DeliveryOptions().setSendTimeout(LIVENESS_TIMEOUT_MS);
    for (int id = 0; id < options.instances(); id++) {
      int instance = id;
      pings.add(vertx.eventBus().request(StatsAddresses.instance(id), null, timeout).onFailure(err -> {
        boolean gone = err instanceof ReplyException
            && ((ReplyException) err).failureType() == ReplyFailure.NO_HANDLERS
            && readiness.phase() == Readiness.Phase.DRAINING;
        (gone ? stopped : unresponsive).add(instance);
      }));
    }
    Future.join(pings).onComplete(done -> {
      boolean up = unresponsive.isEmpty();
      JsonObject body = new JsonObject().put("status", up ? "UP" : "DOWN").put("unresponsiveInstances", unresponsive);
      if (!stopped.isEmpty()) {
        body.put("stoppedInstances", stopped);
      }
      json(req, up ? 200 : 503, body);
    });
  }

  /** 200 once every instance is bound; 503 while starting or draining, or when an instance lost a socket. */
  private void ready(HttpServerRequest req) {
    Readiness.Phase phase = readiness.phase();
    List<String> problems = readiness.socketProblems();
    if (phase == Readiness.Phase.READY && !problems.isEmpty()) {
      json(req, 503, new JsonObject().put("status", "degraded").put("reasons", new JsonArray(problems)));
      return;
    }
    json(req, phase == Readiness.Phase.READY ? 200 : 503, new JsonObject().put("status", phase.id()));
  }

  /** 431 for a header section over the limit, 414 for a request line over it, 400 for anything else malformed. */
  private static void invalid(HttpServerRequest req) {
    Throwable cause = req.decoderResult().cause();
    if (cause instanceof TooLongHttpHeaderException) {
      error(req, 431, "request headers too large (at most " + MAX_HEADER_BYTES + " bytes)");
    } else if (cause instanceof TooLongHttpLineException) {
      error(req, 414, "request line too long (at most " + MAX_LINE_BYTES + " bytes)");
    } else {
      error(req, 400, "malformed request");
    }
    req.connection().close();
  }

  static void json(HttpServerRequest req, int status, JsonObject body) {
    req.response().setStatusCode(status).putHeader("Content-Type", JSON).putHeader("Cache-Control", "no-store")
        .end(body.encode());
  }

  static void error(HttpServerRequest req, int status, String message) {
    json(req, status, new JsonObject().put("error", message).put("status", status));
  }
}
