package io.reuseport.server;

import java.util.Locale;

/**
 * Where the server is in its life; read by the readiness probe from any thread.
 */
public final class ServerState {

  /** The phases, in order. */
  public enum Phase {
    STARTING, READY, DRAINING;

    public String id() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private volatile Phase phase = Phase.STARTING;

  public Phase phase() {
    return phase;
  }

  void set(Phase next) {
    phase = next;
  }
}
