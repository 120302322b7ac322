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

  /** Takes the sockets off this instance's loop without closing them, for the process that takes them over. */
  default Future<Void> handOver() {
    return Future.failedFuture(new IllegalStateException("only reuseport instances can hand their sockets over"));
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
