package io.reuseport.config;

import io.vertx.core.json.JsonObject;

/**
 * The server's configuration, parsed and validated once at start-up (see {@link ConfigLoader}).
 */
public record ServerConfig(
    String host,
    int port,
    int instances,
    Balancing balancing,
    TransportKind transport,
    String service,
    int acceptBacklog,
    int maxConnectionsPerInstance,
    int idleTimeoutSeconds,
    int drainTimeoutSeconds,
    int udpReceiveBufferBytes,
    String adminHost,
    int adminPort,
    int statsIntervalMs,
    double fairnessWarnBelow,
    int fairnessMinSample,
    String controlSocket,
    int maxAdminConnections,
    Steering steering,
    int stallThresholdMs,
    boolean tcpHalfClose,
    int udpFlowIdleSeconds,
    HttpSettings http) {

  public ServerConfig {
    if (transport == TransportKind.NIO && balancing == Balancing.REUSEPORT) {
      throw new ConfigException(Setting.TRANSPORT.key(),
          "nio cannot set SO_REUSEPORT; use epoll or io_uring, or --balancing shared");
    }
    boolean epollReusePort = balancing == Balancing.REUSEPORT && transport.resolved() == TransportKind.EPOLL;
    if (!controlSocket.isEmpty() && !epollReusePort) {
      throw new ConfigException(Setting.CONTROL_SOCKET.key(),
          "listener takeover passes epoll sockets (Netty's io_uring listener cannot adopt a descriptor): it needs"
          + " --balancing reuseport and --transport epoll (or auto)");
    }
    if (steering == Steering.BPF && balancing != Balancing.REUSEPORT) {
      throw new ConfigException(Setting.STEERING.key(),
          "the BPF selector steers a reuseport group: bpf needs --balancing reuseport; use auto or kernel");
    }
  }

  /**
   * Whether this configuration has a reuseport group of this process's own native sockets (epoll or io_uring), the
   * only kind the BPF selector steers.
   */
  public boolean steerable() {
    return balancing == Balancing.REUSEPORT && transport.resolved() != TransportKind.NIO;
  }

  /** The configuration with every built-in default. */
  public static ServerConfig defaults() {
    return ConfigLoader.fromJson(new JsonObject());
  }

  public ServerConfig withPort(int newPort) {
    return new ServerConfig(host, newPort, instances, balancing, transport, service, acceptBacklog,
        maxConnectionsPerInstance, idleTimeoutSeconds, drainTimeoutSeconds, udpReceiveBufferBytes, adminHost,
        adminPort, statsIntervalMs, fairnessWarnBelow, fairnessMinSample, controlSocket, maxAdminConnections,
        steering, stallThresholdMs, tcpHalfClose, udpFlowIdleSeconds, http);
  }

  /** The configuration with a lower connection cap per instance (to fit the file descriptor limit). */
  public ServerConfig withMaxConnectionsPerInstance(int cap) {
    return new ServerConfig(host, port, instances, balancing, transport, service, acceptBacklog, cap,
        idleTimeoutSeconds, drainTimeoutSeconds, udpReceiveBufferBytes, adminHost, adminPort, statsIntervalMs,
        fairnessWarnBelow, fairnessMinSample, controlSocket, maxAdminConnections, steering, stallThresholdMs,
        tcpHalfClose, udpFlowIdleSeconds, http);
  }

  public ServerConfig withControlSocket(String path) {
    return new ServerConfig(host, port, instances, balancing, transport, service, acceptBacklog,
        maxConnectionsPerInstance, idleTimeoutSeconds, drainTimeoutSeconds, udpReceiveBufferBytes, adminHost,
        adminPort, statsIntervalMs, fairnessWarnBelow, fairnessMinSample, path, maxAdminConnections, steering,
        stallThresholdMs, tcpHalfClose, udpFlowIdleSeconds, http);
  }

  /** The configuration as JSON, with the same keys as the file: it travels to verticles this way. */
  public JsonObject toJson() {
    return new JsonObject()
        .put(Setting.HOST.key(), host)
        .put(Setting.PORT.key(), port)
        .put(Setting.INSTANCES.key(), instances)
        .put(Setting.BALANCING.key(), balancing.id())
        .put(Setting.TRANSPORT.key(), transport.id())
        .put(Setting.SERVICE.key(), service)
        .put(Setting.ACCEPT_BACKLOG.key(), acceptBacklog)
        .put(Setting.MAX_CONNECTIONS_PER_INSTANCE.key(), maxConnectionsPerInstance)
        .put(Setting.IDLE_TIMEOUT_SECONDS.key(), idleTimeoutSeconds)
        .put(Setting.DRAIN_TIMEOUT_SECONDS.key(), drainTimeoutSeconds)
        .put(Setting.UDP_RECEIVE_BUFFER_BYTES.key(), udpReceiveBufferBytes)
        .put(Setting.ADMIN_HOST.key(), adminHost)
        .put(Setting.ADMIN_PORT.key(), adminPort)
        .put(Setting.STATS_INTERVAL_MS.key(), statsIntervalMs)
        .put(Setting.FAIRNESS_WARN_BELOW.key(), fairnessWarnBelow)
        .put(Setting.FAIRNESS_MIN_SAMPLE.key(), fairnessMinSample)
        .put(Setting.CONTROL_SOCKET.key(), controlSocket)
        .put(Setting.MAX_ADMIN_CONNECTIONS.key(), maxAdminConnections)
        .put(Setting.STEERING.key(), steering.id())
        .put(Setting.STALL_THRESHOLD_MS.key(), stallThresholdMs)
        .put(Setting.TCP_HALF_CLOSE.key(), tcpHalfClose)
        .put(Setting.UDP_FLOW_IDLE_SECONDS.key(), udpFlowIdleSeconds)
        .put(Setting.TLS_CERT_PATH.key(), http.tlsCertPath())
        .put(Setting.TLS_KEY_PATH.key(), http.tlsKeyPath())
        .put(Setting.MAX_REQUEST_LINE_BYTES.key(), http.maxRequestLineBytes())
        .put(Setting.MAX_HEADER_BYTES.key(), http.maxHeaderBytes())
        .put(Setting.HEADER_TIMEOUT_SECONDS.key(), http.headerTimeoutSeconds());
  }
}
