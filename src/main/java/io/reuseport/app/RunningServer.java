package io.reuseport.app;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.reuseport.admin.AdminServer;
import io.reuseport.config.ServerConfig;
import io.reuseport.metrics.ServerMeters;
import io.reuseport.server.BoundInstance;
import io.reuseport.server.ServerInstances;
import io.reuseport.steer.Steering;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * A started server: its Vertx, its configuration with the actual port, its instances, its admin server. Made by
 * {@link ReusePortServer}: {@link #stop()} undeploys what it deployed, and closes the Vertx only when
 * {@link ReusePortServer#start} built it.
 */
public final class RunningServer {

  private static final Logger LOG = LoggerFactory.getLogger(RunningServer.class);
  /** How often {@link #watchSockets()} checks that every instance's sockets still serve. */
  private static final long SOCKET_CHECK_MS = 1_000;

  private final Vertx vertx;
  private final ServerConfig config;
  private final ServerInstances instances;
  private final String transport;
  private final ServerState state;
  /** This server's meters, removed from the registry (perhaps the embedder's, shared) once it stopped. */
  private final ServerMeters meters;
  /** The admin server, or null when none was deployed. */
  private final AdminServer admin;
  /** Every deployment made for this server, in order: admin server, instances, collector. */
  private final List<String> deployments;
  private final boolean closesVertx;
  /**
   * Whether another process holds descriptors of this server's sockets (they were passed to it, or received from
   * it): such a socket is never changed on the way out (no UDP retirement), only this process's descriptor closed.
   */
  private volatile boolean socketsShared;
  private final Steering steering;

  RunningServer(Vertx vertx, ServerConfig config, ServerInstances instances, String transport, ServerState state,
                ServerMeters meters, AdminServer admin, List<String> deployments, Steering steering) {
    this(vertx, config, instances, transport, state, meters, admin, deployments, steering, false);
  }

  private RunningServer(Vertx vertx, ServerConfig config, ServerInstances instances, String transport,
                        ServerState state, ServerMeters meters, AdminServer admin,
                        List<String> deployments, Steering steering, boolean closesVertx) {
    this.vertx = vertx;
    this.config = config;
    this.instances = instances;
    this.transport = transport;
    this.state = state;
    this.meters = meters;
    this.admin = admin;
    this.deployments = List.copyOf(deployments);
    this.steering = steering;
    this.closesVertx = closesVertx;
  }

  /** Who picks the instance for new traffic: the BPF selector or the kernel's hash. */
  public Steering steering() {
    return steering;
  }

  /** The same server, whose {@link #stop()} also closes its Vertx: {@link ReusePortServer#start} built it. */
  RunningServer closingVertxOnStop() {
    return new RunningServer(vertx, config, instances, transport, state, meters, admin, deployments, steering,
        true);
  }

  /** The Vertx the server runs in: the caller's, or the one {@link ReusePortServer#start} built. */
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
    return admin == null ? -1 : admin.actualPort();
  }

  public List<BoundInstance> instances() {
    return instances.bound();
  }

  /** The transport in use: epoll, io_uring or nio. */
  public String transport() {
    return transport;
  }

  public ServerState state() {
    return state;
  }

  /** The registry the server's meters are on: its own, or the one given with {@link ServerDeployOptions}. */
  public PrometheusMeterRegistry registry() {
    return meters.registry();
  }

  /** Descriptors of every TCP listener this server serves, for a takeover. */
  public List<Integer> tcpListenerFds() {
    return instances.tcpListenerFds();
  }

  /** Descriptors of every UDP socket this server serves, for a takeover. */
  public List<Integer> udpSocketFds() {
    return instances.udpSocketFds();
  }

  /** Another process now holds descriptors of these sockets: from now on they are only ever released. */
  public void shareSockets() {
    socketsShared = true;
  }

  /** The other process confirmed it closed its descriptors (it handed over to this one): these sockets are ours. */
  public void ownSockets() {
    socketsShared = false;
  }

  public boolean socketsShared() {
    return socketsShared;
  }

  /**
   * Hands the sockets to the process that took them over: readiness turns 503, every instance takes its sockets
   * off its loop and closes its own descriptors of them (the sockets stay open in the other process, connections
   * queued on them stay queued for it), and the admin server stops listening (the new process answers on the same
   * port). A later {@link #stop()} then only drains the open connections.
   */
  public Future<Void> handOver() {
    state.requestStop();
    socketsShared = true;
    // the new process attached its own selector; it needs the sockets out of ours (handing over is no stall)
    steering.handOver();
    Future<Void> released = instances.release();
    if (admin == null) {
      return released;
    }
    return released.transform(done -> admin.stopListening()
        .onFailure(err -> LOG.warn("admin server did not stop listening: {}", err.toString()))
        .transform(v -> released));
  }

  /**
   * Checks every {@value #SOCKET_CHECK_MS} ms, on each instance's loop, that its sockets still serve (a UDP socket
   * that was closed, or connected to one peer, no longer receives the clients' datagrams); readiness turns 503
   * naming the instance and the reason, and the reason is logged once.
   */
  public void watchSockets() {
    vertx.setPeriodic(SOCKET_CHECK_MS, timer -> {
      if (state.stopRequested()) {
        vertx.cancelTimer(timer);
        return;
      }
      for (int i = 0; i < instances.bound().size(); i++) {
        int id = i;
        instances.socketProblem(i).onSuccess(problem -> {
          if (state.stopRequested()) {
            return;
          }
          boolean known = state.socketProblems().stream().anyMatch(p -> p.equals("instance " + id + ": " + problem));
          if (problem != null && !known) {
            LOG.error("instance {}: {}; readiness is 503 until it serves again", id, problem);
          }
          state.socketProblem(id, problem);
        });
      }
    });
  }

  /**
   * A second signal during the drain: closes every connection still open, so that the drain ends now.
   */
  public void forceStop() {
    instances.closeConnections();
  }

  /**
   * Drains and stops: readiness turns 503, the listeners close one after the other (or, when another process holds
   * them too, only this process's descriptors close) (with
   * {@code net.ipv4.tcp_migrate_req=1} the kernel then moves each one's queue to a listener still open, this
   * server's or another process's), open connections get up to {@code drainTimeoutSeconds} to finish, then the
   * collector and the admin server (which answered throughout) are undeployed. A Vertx {@code start} built is then
   * closed; the caller's Vertx keeps running, and can host a server again.
   */
  public Future<Void> stop() {
    state.requestStop();
    // draining is not a stall: the table stays as it is; closed listeners leave the socket map by themselves
    steering.stop();
    // another process serves these very sockets: close only our descriptors, change nothing about the sockets;
    // else the closed listeners' queued requests may have migrated to the ones still open: they look again
    Future<Void> closed = socketsShared ? instances.release() : instances.closeListeners();
    return closed.transform(x -> instances.undeploy())
        .transform(drained -> ReusePortServer.undeployAll(vertx, deployments))
        .transform(done -> closesVertx ? vertx.close() : Future.<Void>succeededFuture())
        .andThen(done -> steering.close())
        // last, so that /metrics served the drain; a registry the embedder shares keeps no series of a stopped server
        .andThen(done -> meters.close());
  }
}
