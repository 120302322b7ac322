package io.reuseport.server;

import io.reuseport.stats.InstanceCounters;

/**
 * Admits TCP connections and counts how each one ends, the same way in both balancing modes (the reuseport
 * instance's Netty handler and the shared instance's {@code NetSocket} handlers both call it): one per instance,
 * touched only on that instance's event loop.
 *
 * <p>The rules: a connection beyond {@code maxConnectionsPerInstance} open ones is counted {@code rejected} and
 * closed at once by the caller (never {@code accepted}, {@code active} or {@code closed}); every admitted one is
 * counted {@code accepted} and {@code active} until it closes, then {@code closed} once; and one that failed (a
 * reset, a failed write, a service error: whatever failed first, the connection is closed for it) counts one
 * {@code errors} when it closes, however many of its pending reads and writes fail with it.
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

  /**
   * An admitted connection closed; call it once per connection.
   *
   * @param failed whether anything failed on it before (counted as one error, whatever it was and however often)
   */
  void closed(boolean failed) {
    counters.tcpActive--;
    counters.tcpClosed++;
    if (failed) {
      counters.tcpErrors++;
    }
  }
}
