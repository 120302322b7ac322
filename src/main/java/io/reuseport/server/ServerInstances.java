package io.reuseport.server;

import io.reuseport.config.Balancing;
import io.reuseport.config.ConfigException;
import io.reuseport.config.ServerConfig;
import io.reuseport.config.Setting;
import io.reuseport.http.HttpTls;
import io.reuseport.service.HttpServiceProvider;
import io.reuseport.steer.Steering;
import io.netty.handler.ssl.SslContext;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The instances of one server, deployed together into a Vertx: one verticle each, each on an event loop of its own.
 * Instance 0 binds first (so that port 0 becomes one actual port), the others join the port it got. What deploys
 * them (the stats collector, the admin server, the steering around them) is the caller's business.
 */
public final class ServerInstances {

  private static final Logger LOG = LoggerFactory.getLogger(ServerInstances.class);
  /** With port 0, how often to try another ephemeral port whose UDP twin turned out to be taken. */
  private static final int PORT_ZERO_ATTEMPTS = 5;

  private final Vertx vertx;
  private final List<ServerInstance> verticles;
  private final List<BoundInstance> bound;

  private ServerInstances(Vertx vertx, List<ServerInstance> verticles, List<BoundInstance> bound) {
    this.vertx = vertx;
    this.verticles = List.copyOf(verticles);
    this.bound = List.copyOf(bound);
  }

  /**
   * Deploys {@code config.instances()} instances into {@code vertx}, serving {@code inherited} sockets where there
   * are any, stamping {@code steering}'s heartbeats when it is active. On failure whatever was deployed is undeployed
   * again (last first) and the future fails: a bind failure of instance 0 as one line naming the port, two
   * instances on one event loop as a {@link StartupException}.
   */
  public static Future<ServerInstances> deploy(Vertx vertx, ServerConfig config, InheritedSockets inherited,
                                               Steering steering) {
    return deploy(vertx, config, inherited, steering, null);
  }

  /**
   * Same, for an HTTP service: each instance serves {@code http}'s handler (with TLS when the settings name a
   * certificate); null serves the byte service {@code config.service()} names.
   */
  public static Future<ServerInstances> deploy(Vertx vertx, ServerConfig config, InheritedSockets inherited,
                                               Steering steering, HttpServiceProvider http) {
    Kind kind;
    try {
      kind = Kind.of(config, http);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    List<ServerInstance> verticles = new ArrayList<>();
    List<String> deployments = new CopyOnWriteArrayList<>();
    return deployFirst(vertx, config, inherited, verticles, deployments, steering, kind, 1).compose(first -> {
      // reuseport instances join the port instance 0 got; shared ones find it through Vert.x's server sharing
      ServerConfig joined = config.balancing() == Balancing.REUSEPORT ? config.withPort(first.port()) : config;
      List<Future<BoundInstance>> deployed = new ArrayList<>();
      for (int id = 1; id < config.instances(); id++) {
        ServerInstance instance = newInstance(new InstanceOptions(id, joined),
            inherited.shareOf(id, config.instances()), steering, kind);
        verticles.add(instance);
        deployed.add(deploy(vertx, instance, deployments));
      }
      return Future.join(deployed).map(ok -> {
        List<BoundInstance> all = new ArrayList<>();
        all.add(first);
        deployed.forEach(f -> all.add(f.result()));
        checkDistinctLoops(all);
        return new ServerInstances(vertx, verticles, all);
      });
    }).recover(err -> undeployAll(vertx, deployments).transform(x -> Future.failedFuture(err)));
  }

  /** Every instance, in the order of their ids. */
  public List<BoundInstance> bound() {
    return bound;
  }

  /** The port instance 0 bound, which every instance serves. */
  public int port() {
    return bound.get(0).port();
  }

  /**
   * Per instance, its (first) TCP listener's and UDP socket's descriptors, for the selector's socket map; -1 for an
   * HTTP instance's UDP socket, which it has none of.
   */
  public List<int[]> selectorSockets() {
    List<int[]> sockets = new ArrayList<>();
    for (ServerInstance v : verticles) {
      sockets.add(new int[] {v.tcpFds().get(0), v.udpFds().isEmpty() ? -1 : v.udpFds().get(0)});
    }
    return sockets;
  }

  /** Descriptors of every TCP listener the instances serve, for a takeover. */
  public List<Integer> tcpListenerFds() {
    List<Integer> fds = new ArrayList<>();
    verticles.forEach(v -> fds.addAll(v.tcpFds()));
    return fds;
  }

  /** Descriptors of every UDP socket the instances serve, for a takeover. */
  public List<Integer> udpSocketFds() {
    List<Integer> fds = new ArrayList<>();
    verticles.forEach(v -> fds.addAll(v.udpFds()));
    return fds;
  }

  /**
   * Every instance takes its sockets off its loop and closes this process's descriptors of them, changing nothing
   * about the sockets: another process that holds them serves them on.
   */
  public Future<Void> release() {
    List<Future<Void>> all = new ArrayList<>();
    verticles.forEach(v -> all.add(v.release()));
    return Future.all(all).mapEmpty();
  }

  /**
   * Closes the listeners one instance after the other; after each, the listeners still open look at their accept
   * queues again (with {@code net.ipv4.tcp_migrate_req=1} the closed one's queue may have moved to them).
   */
  public Future<Void> closeListeners() {
    Future<Void> closed = Future.succeededFuture();
    for (ServerInstance v : verticles) {
      closed = closed.transform(x -> v.closeListeners()).andThen(x -> verticles.forEach(ServerInstance::acceptPass));
    }
    return closed;
  }

  /** Closes every open connection now (a forced stop); the drain then ends. */
  public void closeConnections() {
    verticles.forEach(ServerInstance::closeConnections);
  }

  /** Checked on instance {@code id}'s loop: why its sockets no longer serve, or null when they do. */
  public Future<String> socketProblem(int id) {
    return verticles.get(id).socketProblem();
  }

  /** Undeploys every instance at once, each draining its open connections; completes when all are done. */
  public Future<Void> undeploy() {
    List<Future<?>> drained = new ArrayList<>();
    for (BoundInstance instance : bound) {
      drained.add(vertx.undeploy(instance.deploymentId()));
    }
    return Future.join(drained).mapEmpty();
  }

  private static Future<Void> undeployAll(Vertx vertx, List<String> deployments) {
    Future<Void> chain = Future.succeededFuture();
    for (int i = deployments.size() - 1; i >= 0; i--) {
      String id = deployments.get(i);
      chain = chain.transform(x -> vertx.undeploy(id));
    }
    return chain;
  }

  private static Future<BoundInstance> deployFirst(Vertx vertx, ServerConfig config, InheritedSockets inherited,
                                                  List<ServerInstance> verticles, List<String> deployments,
                                                  Steering steering, Kind kind, int attempt) {
    ServerInstance instance = newInstance(new InstanceOptions(0, config), inherited.shareOf(0, config.instances()),
        steering, kind);
    return deploy(vertx, instance, deployments)
        .onSuccess(b -> verticles.add(0, instance))
        .recover(err -> {
          if (config.port() == 0 && attempt < PORT_ZERO_ATTEMPTS) {
            LOG.debug("ephemeral port unusable for both TCP and UDP ({}), trying another", err.toString());
            return deployFirst(vertx, config, inherited, verticles, deployments, steering, kind, attempt + 1);
          }
          return Future.failedFuture(bindFailure(config, err));
        });
  }

  /** One deployment per instance: Vert.x gives each a context, and so an event loop, of its own. */
  private static Future<BoundInstance> deploy(Vertx vertx, ServerInstance instance, List<String> deployments) {
    return vertx.deployVerticle(instance)
        .onSuccess(deployments::add)
        .map(deployment -> instance.bound().withDeployment(deployment));
  }

  private static ServerInstance newInstance(InstanceOptions options, InheritedSockets share, Steering steering,
                                           Kind kind) {
    if (kind.http() != null) {
      return new HttpInstance(options, kind.http(), kind.tls(), share,
          steering.active() ? steering.heartbeats() : null, steering.stampPeriodMs());
    }
    return options.config().balancing() == Balancing.REUSEPORT
        ? new ReusePortInstance(options, share, steering.active() ? steering.heartbeats() : null,
            steering.stampPeriodMs())
        : new SharedInstance(options);
  }

  /** What the instances serve: an HTTP service (with its TLS context, or none), or the configured byte service. */
  private record Kind(HttpServiceProvider http, SslContext tls) {

    static Kind of(ServerConfig config, HttpServiceProvider http) {
      if (http == null) {
        return new Kind(null, null);
      }
      if (config.balancing() != Balancing.REUSEPORT) {
        throw new ConfigException(Setting.BALANCING.key(), "HTTP services ('" + http.name() + "') run on per-loop"
            + " listeners only: use --balancing reuseport (Vert.x's own shared HTTP server is what it replaces)");
      }
      return new Kind(http, HttpTls.context(config.http()));
    }
  }

  private static void checkDistinctLoops(List<BoundInstance> all) {
    HashSet<String> loops = new HashSet<>();
    for (BoundInstance b : all) {
      if (!loops.add(b.eventLoop())) {
        throw new StartupException("instances share event loop " + b.eventLoop() + "; each instance needs its own"
            + " (was the Vertx deploying something else at the same time?)");
      }
    }
  }

  private static Throwable bindFailure(ServerConfig config, Throwable err) {
    if (err instanceof StartupException || err instanceof ConfigException) {
      return err;
    }
    return BindFailure.of("TCP and UDP", config, err);
  }
}
