package io.reuseport.service;

import io.vertx.core.Vertx;

/**
 * What a service is told when its server instance creates it.
 *
 * @param instanceId the server instance, 0..instances-1
 * @param vertx the server's Vertx, e.g. for timers (they run on the instance's event loop)
 */
public record ServiceContext(int instanceId, Vertx vertx) {
}
