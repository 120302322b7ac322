package io.reuseport.server;

import io.reuseport.config.ServerConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.List;

/**
 * A started server: its Vertx, its configuration with the actual port, and its instances.
 */
public final class RunningServer {

  private final Vertx vertx;
  private final ServerConfig config;
  private final List<BoundInstance> instances;
  private final String transport;

  RunningServer(Vertx vertx, ServerConfig config, List<BoundInstance> instances, String transport) {
    this.vertx = vertx;
    this.config = config;
    this.instances = List.copyOf(instances);
    this.transport = transport;
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

  public List<BoundInstance> instances() {
    return instances;
  }

  /** The transport in use: epoll, io_uring or nio. */
  public String transport() {
    return transport;
  }

  /**
   * Drains and stops: every instance stops accepting, open connections get up to {@code drainTimeoutSeconds} to
   * finish, then Vert.x closes.
   */
  public Future<Void> stop() {
    return vertx.close();
  }
}
