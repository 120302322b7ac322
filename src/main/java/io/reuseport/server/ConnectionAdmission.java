package io.reuseport.server;

import io.reuseport.stats.InstanceCounters;

/**
 * Admits TCP connections and counts how each one ends, the same way in both balancing modes (the reuseport
 * instance's Netty handler and the shared instance's {@code NetSocket} handlers both call it): one per instance,
 * touched only on that instance's event loop.
 *
 * <p>The rules: a connection beyond {@code maxConnectionsPerInstance} open ones is counted {@code rejected} and
 * closed at once by the caller (never {@code accepted}, {@code active} or {@code closed}); every admitted one is
 * counted {@code accepted} and {@code active} until it closes, then {@code closed} once; and how it ended counts
 * once when it closes, however many of its pending reads and writes fail with it: {@code resets} when the peer
 * closed with a reset (its way of closing, not a fault here), {@code errors} when something went wrong here (a
 * service error, a failed write to a live peer). Whatever ended it first decides.
 */
final class ConnectionAdmission {

  private final InstanceCounters counters;
  private final int limit;

  ConnectionAdmission(InstanceCounters counters, int maxConnections) {
    this.counters = counters;
    this.limit = maxConnections;
  }

  /** The instance's counters, for what each connection counts itself (bytes in and out). */
  InstanceCounters counters() {
    return counters;
  }

  /** Whether to serve a connection just accepted; false: it is counted rejected and the caller closes it now. */
  boolean admit() {
    if (counters.tcpActive >= limit) {
      counters.tcpRejected++;
      return false;
    }
    counters.tcpAccepted++;
    counters.tcpActive++;
    return true;
  }

  /** An admitted connection closed; call it once per connection, with what ended it first. */
  void closed(Ending ending) {
    counters.tcpActive--;
    counters.tcpClosed++;
    switch (ending) {
      case PEER_RESET -> counters.tcpResets++;
      case FAILED -> counters.tcpErrors++;
      case CLEAN -> { }
    }
  }

  /** What ended a connection; the first that happened decides. */
  enum Ending {
    /** Closed by either side without a failure. */
    CLEAN,
    /** The peer reset it ({@link PeerReset}). */
    PEER_RESET,
    /** Something failed here: a service error, a failed write to a live peer, a failed set-up. */
    FAILED;

    /** This ending, or {@code next} if nothing ended the connection yet. */
    Ending then(Ending next) {
      return this == CLEAN ? next : this;
    }

    /** How a socket failure ends a connection: the peer's reset or a failure here. */
    static Ending of(Throwable socketFailure) {
      return PeerReset.is(socketFailure) ? PEER_RESET : FAILED;
    }
  }
}
