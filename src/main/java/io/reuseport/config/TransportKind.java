package io.reuseport.config;

import java.util.Locale;

/**
 * The Netty transport the server runs on.
 */
public enum TransportKind {
  /** epoll, the default: io_uring is blocked by most container runtimes' default seccomp profiles. */
  AUTO,
  EPOLL,
  IO_URING,
  /** Java NIO: no {@code SO_REUSEPORT}, so only valid with {@link Balancing#SHARED}. */
  NIO;

  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The transport that {@link #AUTO} stands for. */
  public TransportKind resolved() {
    return this == AUTO ? EPOLL : this;
  }
}
