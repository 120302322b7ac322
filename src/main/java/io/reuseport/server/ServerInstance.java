package io.reuseport.server;

import io.vertx.core.Deployable;

/**
 * A deployed server instance, whatever its balancing mode.
 */
interface ServerInstance extends Deployable {

  /** What the instance bound; set once its start succeeded. */
  BoundInstance bound();
}
