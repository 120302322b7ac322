package io.reuseport.app;

import io.reuseport.config.Balancing;
import io.reuseport.config.ServerConfig;
import io.reuseport.config.TransportKind;
import io.reuseport.server.StartupException;
import io.vertx.core.transport.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks the Vert.x transport for a configuration, and refuses to start rather than fall back silently: reuseport
 * needs a native transport ({@code SO_REUSEPORT} is ignored by NIO), and Vert.x itself would quietly use NIO.
 */
final class TransportChoice {

  private static final Logger LOG = LoggerFactory.getLogger(TransportChoice.class);

  private TransportChoice() {
  }

  /** The innermost cause: the outer ones are class-initialisation wrappers that say nothing. */
  private static String rootCause(Throwable t) {
    Throwable root = t;
    while (root != null && root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root == null ? "unknown cause" : root.toString();
  }

  static Transport pick(ServerConfig config) {
    TransportKind kind = config.transport().resolved();
    if (kind == TransportKind.NIO) {
      return Transport.NIO;
    }
    Transport transport = kind == TransportKind.IO_URING ? Transport.IO_URING : Transport.EPOLL;
    if (transport != null && transport.available()) {
      return transport;
    }
    String cause = transport == null ? "its classes are not on the class path"
        : rootCause(transport.unavailabilityCause());
    if (config.balancing() == Balancing.SHARED && config.transport() == TransportKind.AUTO) {
      LOG.warn("native transport {} unavailable ({}); shared balancing runs on nio", kind.id(), cause);
      return Transport.NIO;
    }
    throw new StartupException("transport " + kind.id() + " is unavailable: " + cause
        + (config.balancing() == Balancing.REUSEPORT
        ? "; reuseport needs epoll or io_uring (a read-only or noexec java.io.tmpdir stops Netty loading its"
        + " native library) — or run with --balancing shared --transport nio" : ""));
  }
}
