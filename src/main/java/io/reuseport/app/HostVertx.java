package io.reuseport.app;

import io.netty.util.concurrent.EventExecutor;
import io.reuseport.config.Balancing;
import io.reuseport.config.ServerConfig;
import io.reuseport.config.TransportKind;
import io.reuseport.server.StartupException;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.transport.Transport;

/**
 * What the server needs to know about a {@link Vertx} it is deployed into: which transport it runs and how many
 * event loops it has. Vert.x keeps both below its public API ({@code io.vertx.core.internal}); this class is the
 * seam, and checks the requirements with one clear error each instead of running degraded.
 */
final class HostVertx {

  private HostVertx() {
  }

  /**
   * @return the transport's name (epoll, io_uring or nio)
   * @throws StartupException when {@code vertx} cannot host the server {@code config} describes
   */
  static String check(Vertx vertx, ServerConfig config) {
    String running = transportName(vertx);
    TransportKind wanted = config.transport().resolved();
    if (config.balancing() == Balancing.REUSEPORT && !vertx.isNativeTransportEnabled()) {
      Throwable cause = vertx.unavailableNativeTransportCause();
      // Vertx.vertx() and a builder without withTransport never try a native transport: there is no cause then
      String why = cause == null ? "this Vertx was built without asking for one"
          : "the native transport is unavailable because: " + cause;
      throw new StartupException("this Vertx runs the " + running + " transport: reuseport balancing needs a"
          + " native one (build it with Vertx.builder().withTransport(Transport.EPOLL)); " + why);
    }
    boolean anyWillDo = config.balancing() == Balancing.SHARED && config.transport() == TransportKind.AUTO;
    if (!anyWillDo && !running.equals(wanted.id())) {
      throw new StartupException("this Vertx runs the " + running + " transport, the configuration asks for "
          + wanted.id() + " (setting 'transport'): build the Vertx with that transport or set transport "
          + running);
    }
    int loops = eventLoops(vertx);
    if (loops < config.instances()) {
      throw new StartupException(config.instances() + " instances need " + config.instances()
          + " distinct event loops (" + (config.instances() + 1) + " to keep the admin server and stats collector"
          + " off them), this Vertx has " + loops + ": build it with VertxOptions.setEventLoopPoolSize("
          + (config.instances() + 1) + ") or lower setting 'instances'");
    }
    return running;
  }

  /** The number of event loops Vert.x hands out, round robin, to the contexts it creates. */
  static int eventLoops(Vertx vertx) {
    int count = 0;
    for (EventExecutor ignored : ((VertxInternal) vertx).nettyEventLoopGroup()) {
      count++;
    }
    return count;
  }

  /** epoll, io_uring or nio, as Vert.x names them (or the implementation's class name for any other). */
  static String transportName(Vertx vertx) {
    Class<?> running = ((VertxInternal) vertx).transport().getClass();
    for (Transport t : new Transport[] {Transport.EPOLL, Transport.IO_URING, Transport.NIO}) {
      if (t != null && t.available() && t.implementation().getClass() == running) {
        return t.name();
      }
    }
    return running.getSimpleName();
  }
}
