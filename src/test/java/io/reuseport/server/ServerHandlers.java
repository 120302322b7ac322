package io.reuseport.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.reuseport.service.Service;
import io.reuseport.stats.InstanceCounters;

import java.util.HashSet;
import java.util.Set;

/**
 * The per-connection and per-datagram handlers of one reuseport instance, built exactly as
 * {@code ReusePortInstance} and {@code ReusePortBinder} build them (the same classes, options and shared state), for
 * the JMH benchmarks in {@code io.reuseport.bench.jmh}, which cannot reach this package's classes. Like an instance,
 * one object per event loop: not thread-safe.
 */
public final class ServerHandlers {

  private final Service service;
  private final boolean halfClose;
  private final InstanceCounters counters = new InstanceCounters(0, "bench");
  private final ConnectionAdmission admission;
  private final Set<Channel> open = new HashSet<>();
  private final IdleSweeper idle = new IdleSweeper(open);

  /** @param halfClose the {@code tcpHalfClose} setting (the default is true) */
  public ServerHandlers(Service service, boolean halfClose) {
    this.service = service;
    this.halfClose = halfClose;
    this.admission = new ConnectionAdmission(counters, Integer.MAX_VALUE);
  }

  /**
   * What goes in a TCP listener's pipeline: its accept-error handler, then the {@link ConnectionAcceptor} that sets
   * options on each accepted connection, registers it, admits it and adds its {@link TcpConnectionHandler}.
   */
  public ChannelHandler[] listenerHandlers(Channel listener) {
    ConnectionSetup setup = new ConnectionSetup(service, admission, open, idle);
    return new ChannelHandler[] {
        setup.failures(), new ConnectionAcceptor(setup, ReusePortBinder.connectionOptions(listener, halfClose))};
  }

  /** The handler of one connection, admitted (counted accepted and active) as the acceptor admits it. */
  public ChannelHandler connectionHandler() {
    if (!admission.admit()) {
      throw new IllegalStateException("not admitted");
    }
    return new TcpConnectionHandler(service, admission, open, idle);
  }

  /** The name the acceptor gives {@link #connectionHandler()} in a connection's pipeline. */
  public static String connectionHandlerName() {
    return TcpConnectionHandler.NAME;
  }

  /** The handler of one UDP socket. */
  public ChannelHandler datagramHandler() {
    return new DatagramHandler(service, counters);
  }

  /** How many connections are open (handler added, not yet inactive). */
  public int openConnections() {
    return open.size();
  }

  public InstanceCounters counters() {
    return counters;
  }
}
