package io.reuseport.testsupport;

import io.reuseport.service.HttpServiceProvider;
import io.reuseport.service.ServiceContext;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;

/**
 * An HTTP service with a bug, as a plain request handler (no Router to catch it): {@code /throw} throws;
 * {@code /throw-in-timer} answers {@code 200 ok} from a timer and then throws there, {@code /throw-in-callback} the
 * same from a future's callback; any other path answers {@code 200 ok}.
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
        switch (request.path()) {
          case "/throw" -> throw new IllegalStateException("the service's bug, on purpose");
          case "/throw-in-timer" -> context.vertx().setTimer(1, id -> {
            request.response().end("ok");
            throw new IllegalStateException("the service's bug in a timer, on purpose");
          });
          case "/throw-in-callback" -> context.vertx().timer(1).onComplete(fired -> {
            request.response().end("ok");
            throw new IllegalStateException("the service's bug in a callback, on purpose");
          });
          default -> request.response().end("ok");
        }
      });
    }
  }
}
