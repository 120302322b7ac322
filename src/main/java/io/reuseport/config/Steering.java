package io.reuseport.config;

import java.util.Locale;

/**
 * Who picks the instance for a new connection or datagram.
 */
public enum Steering {
  /** The BPF selector where this process may load it (CAP_BPF, reuseport balancing on epoll), else the kernel. */
  AUTO,
  /** The BPF selector or nothing: the server refuses to start (exit 2) when it cannot load it. */
  BPF,
  /** The kernel's 4-tuple hash, blind to a stalled instance. */
  KERNEL;

  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }
}
