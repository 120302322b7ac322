package io.reuseport.testsupport;

import io.reuseport.service.HttpServiceProvider;
import io.reuseport.service.ServiceContext;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

/**
 * An HTTP service written as a vertx-web {@link Router}, one per instance, the way an application would: {@code GET
 * /id} answers which instance and which thread served it (JSON), {@code GET /stall?ms=N} blocks the instance's event
 * loop for N ms (the one place an HTTP test does it, on purpose) and then answers, {@code GET /slow?ms=N} answers
 * after N ms without blocking anything, {@code GET /status/N} answers
 * status N, {@code /ws} upgrades to a WebSocket that echoes each text message prefixed with the instance's id.
 */
public final class RouterHttpService {

  public static final String NAME = "whoami-http";

  private RouterHttpService() {
  }

  /** The Router of instance {@code context.instanceId()}, built on its event loop. */
  public static Router router(ServiceContext context) {
    int instance = context.instanceId();
    Router router = Router.router(context.vertx());
    router.get("/id").handler(rc -> rc.json(new JsonObject()
        .put("instance", instance)
        .put("thread", Thread.currentThread().getName())
        .put("protocol", rc.request().version().alpnName())));
    router.get("/stall").handler(rc -> {
      try {
        // the stall itself: this instance's event loop blocked on purpose
        Thread.sleep(Long.parseLong(rc.queryParams().get("ms")));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      rc.end("stalled");
    });
    router.get("/slow").handler(rc -> context.vertx().setTimer(Long.parseLong(rc.queryParams().get("ms")),
        t -> rc.end("slow")));
    router.get("/status/:code").handler(rc -> rc.response()
        .setStatusCode(Integer.parseInt(rc.pathParam("code"))).end());
    router.get("/ws").handler(rc -> rc.request().toWebSocket().onSuccess(ws ->
        ws.textMessageHandler(text -> ws.writeTextMessage(instance + ":" + text))));
    return router;
  }

  public static final class Provider implements HttpServiceProvider {
    @Override
    public String name() {
      return NAME;
    }

    @Override
    public Future<Handler<HttpServerRequest>> create(ServiceContext context) {
      return Future.succeededFuture(router(context));
    }
  }
}
