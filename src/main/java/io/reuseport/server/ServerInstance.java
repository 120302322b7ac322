package io.reuseport.server;

import io.vertx.core.Deployable;
import io.vertx.core.Future;

import java.util.List;

/**
 * A deployed server instance, whatever its balancing mode.
 */
interface ServerInstance extends Deployable {

  /** What the instance bound; set once its start succeeded. */
  BoundInstance bound();

  /** Stops accepting and receiving; open connections stay. Shared instances close everything in their stop. */
  default Future<Void> closeListeners() {
    return Future.succeededFuture();
  }

  /**
   * Takes the sockets off this instance's loop and closes this process's descriptors of them, changing nothing about
   * the sockets themselves: another process that holds them (after a takeover) serves them on as before.
   */
  default Future<Void> release() {
    return Future.failedFuture(new IllegalStateException("only reuseport instances can hand their sockets over"));
  }

  /** Makes the open listeners look at their accept queues again ({@link AcceptPass}). */
  default void acceptPass() {
  }

  /** Closes every open connection now (a forced stop); the drain then ends. */
  default void closeConnections() {
  }

  /** Checked on the instance's loop: why its sockets no longer serve, or null when they do. */
  default Future<String> socketProblem() {
    return Future.succeededFuture();
  }

  /** Descriptors of the TCP listeners served, for a takeover. */
  default List<Integer> tcpFds() {
    return List.of();
  }

  /** Descriptors of the UDP sockets served, for a takeover. */
  default List<Integer> udpFds() {
    return List.of();
  }
}
