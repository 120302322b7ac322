package io.reuseport.service;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;

/**
 * Makes an HTTP service available by name, as {@link ServiceProvider} does for byte services; the {@code service}
 * setting picks either kind. Implementations are found with {@link java.util.ServiceLoader}: list the class in
 * {@code META-INF/services/io.reuseport.service.HttpServiceProvider} of a jar on the class path, or hand one to
 * {@code ServerDeployOptions.setHttpService} when embedding.
 *
 * <p>Each server instance asks for a handler of its own, on its own event loop: the handler (a vertx-web
 * {@code Router} is one) then serves only that instance's connections, on that loop, and needs no locking. Stock
 * Vert.x HTTP serves it: HTTP/1.1 with keep-alive and pipelining, h2c, TLS with ALPN when configured, and WebSocket
 * upgrades ({@code request.toWebSocket()}).
 */
public interface HttpServiceProvider {

  /** The name used in the {@code service} setting. */
  String name();

  /**
   * Creates the request handler of one server instance; called on that instance's event loop. The instance binds
   * its listener once the future completes (readiness stays 503 until every instance is bound), so a service that
   * loads something first completes it then.
   */
  Future<Handler<HttpServerRequest>> create(ServiceContext context);
}
