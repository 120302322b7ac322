package io.reuseport.server;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.reuseport.config.ServerConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.List;

/**
 * A started server: its Vertx, its configuration with the actual port, its instances, its admin server. Made by
 * {@link ServerLauncher}: {@link #stop()} undeploys what the launcher deployed, and closes the Vertx only when the
 * launcher built it.
 */
public final class RunningServer {

  private final Vertx vertx;
  private final ServerConfig config;
  private final List<BoundInstance> instances;
  private final List<ServerInstance> verticles;
  private final String transport;
  private final ServerState state;
  private final PrometheusMeterRegistry registry;
  private final int adminPort;
  /** Every deployment made for this server, in order: admin server, instances, collector. */
  private final List<String> deployments;
  private final boolean closesVertx;

  RunningServer(Vertx vertx, ServerConfig config, List<BoundInstance> instances, List<ServerInstance> verticles,
                String transport, ServerState state, PrometheusMeterRegistry registry, int adminPort,
                List<String> deployments) {
    this(vertx, config, instances, verticles, transport, state, registry, adminPort, deployments, false);
  }

  private RunningServer(Vertx vertx, ServerConfig config, List<BoundInstance> instances,
                        List<ServerInstance> verticles, String transport, ServerState state,
                        PrometheusMeterRegistry registry, int adminPort, List<String> deployments,
                        boolean closesVertx) {
    this.vertx = vertx;
    this.config = config;
    this.instances = List.copyOf(instances);
    this.verticles = List.copyOf(verticles);
    this.transport = transport;
    this.state = state;
    this.registry = registry;
    this.adminPort = adminPort;
    this.deployments = List.copyOf(deployments);
    this.closesVertx = closesVertx;
  }

  /** The same server, whose {@link #stop()} also closes its Vertx: the launcher built that Vertx for it. */
  RunningServer closingVertxOnStop() {
    return new RunningServer(vertx, config, instances, verticles, transport, state, registry, adminPort, deployments,
        true);
  }

  /** The Vertx the server runs in: the caller's, or the one {@link ServerLauncher#start} built. */
  public Vertx vertx() {
    return vertx;
  }

  /** The configuration, with {@code port} set to the port actually bound. */
  public ServerConfig config() {
    return config;
  }

  public int port() {
    return config.port();
  }

  /** The admin server's actual port, or -1 when none was deployed. */
  public int adminPort() {
    return adminPort;
  }

  public List<BoundInstance> instances() {
    return instances;
  }

  /** The transport in use: epoll, io_uring or nio. */
  public String transport() {
    return transport;
  }

  public ServerState state() {
    return state;
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Descriptors of every TCP listener this server serves, for a takeover. */
  public List<Integer> tcpListenerFds() {
    List<Integer> fds = new ArrayList<>();
    verticles.forEach(v -> fds.addAll(v.tcpFds()));
    return fds;
  }

  /** Descriptors of every UDP socket this server serves, for a takeover. */
  public List<Integer> udpSocketFds() {
    List<Integer> fds = new ArrayList<>();
    verticles.forEach(v -> fds.addAll(v.udpFds()));
    return fds;
  }

  /**
   * Hands the sockets to the process that took them over: readiness turns 503 and every instance takes its
   * sockets off its loop without closing them (connections queued on them stay queued for the other process). A
   * later {@link #stop()} then only drains the open connections.
   */
  public Future<Void> handOver() {
    state.set(ServerState.Phase.DRAINING);
    List<Future<Void>> all = new ArrayList<>();
    verticles.forEach(v -> all.add(v.handOver()));
    return Future.all(all).mapEmpty();
  }

  /**
   * Drains and stops: readiness turns 503, the listeners close one after the other (with
   * {@code net.ipv4.tcp_migrate_req=1} the kernel then moves each one's queue to a listener still open, this
   * server's or another process's), open connections get up to {@code drainTimeoutSeconds} to finish, then the
   * collector and the admin server (which answered throughout) are undeployed. A Vertx the launcher built is then
   * closed; the caller's Vertx keeps running, and can host a server again.
   */
  public Future<Void> stop() {
    state.set(ServerState.Phase.DRAINING);
    Future<Void> closed = Future.succeededFuture();
    for (ServerInstance v : verticles) {
      closed = closed.transform(x -> v.closeListeners());
    }
    return closed.transform(x -> {
      List<Future<?>> drained = new ArrayList<>();
      for (BoundInstance instance : instances) {
        drained.add(vertx.undeploy(instance.deploymentId()));
      }
      return Future.join(drained);
    }).transform(drained -> ServerLauncher.undeployAll(vertx, deployments))
        .transform(done -> closesVertx ? vertx.close() : Future.<Void>succeededFuture());
  }
}
