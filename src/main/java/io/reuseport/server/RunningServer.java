package io.reuseport.server;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.reuseport.config.ServerConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.List;

/**
 * A started server: its Vertx, its configuration with the actual port, its instances, its admin server.
 */
public final class RunningServer {

  private final Vertx vertx;
  private final ServerConfig config;
  private final List<BoundInstance> instances;
  private final String transport;
  private final ServerState state;
  private final PrometheusMeterRegistry registry;
  private final int adminPort;

  RunningServer(Vertx vertx, ServerConfig config, List<BoundInstance> instances, String transport,
                ServerState state, PrometheusMeterRegistry registry, int adminPort) {
    this.vertx = vertx;
    this.config = config;
    this.instances = List.copyOf(instances);
    this.transport = transport;
    this.state = state;
    this.registry = registry;
    this.adminPort = adminPort;
  }

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

  /**
   * Drains and stops: readiness turns 503, every instance stops accepting, open connections get up to
   * {@code drainTimeoutSeconds} to finish, then Vert.x (and the admin server, which answered throughout) closes.
   */
  public Future<Void> stop() {
    state.set(ServerState.Phase.DRAINING);
    List<Future<?>> drained = new ArrayList<>();
    for (BoundInstance instance : instances) {
      drained.add(vertx.undeploy(instance.deploymentId()));
    }
    return Future.join(drained).transform(done -> vertx.close());
  }
}
