package io.reuseport.testsupport;

import io.reuseport.service.HttpServiceProvider;
import io.reuseport.service.ServiceContext;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;

/**
 * An HTTP service with a bug, as a plain request handler (no Router to catch it): {@code /throw} throws, any other
 * path answers {@code 200 ok}.
 */
public final class ThrowingHttpService {

  public static final String NAME = "throwing-http";

  private ThrowingHttpService() {
  }

  public static final class Provider implements HttpServiceProvider {
    @Override
    public String name() {
      return NAME;
    }

    @Override
    public Future<Handler<HttpServerRequest>> create(ServiceContext context) {
      return Future.succeededFuture(request -> {
        if (request.path().equals("/throw")) {
          throw new IllegalStateException("the service's bug, on purpose");
        }
        request.response().end("ok");
      });
    }
  }
}
