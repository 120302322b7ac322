package io.reuseport.service;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;

/**
 * The TechEmpower shapes, so that results compare with the world's: {@code GET /plaintext} answers
 * {@code Hello, World!} as {@code text/plain}, {@code GET /json} answers {@code {"message":"Hello, World!"}} (the
 * JSON encoded per request, as the benchmark asks); anything else is 404, another method on those paths 405.
 */
public final class HelloHttpService implements Handler<HttpServerRequest> {

  static final String MESSAGE = "Hello, World!";
  private static final Buffer PLAINTEXT = Buffer.buffer(MESSAGE);
  private static final CharSequence TEXT_PLAIN = HttpHeaders.createOptimized("text/plain");
  private static final CharSequence APPLICATION_JSON = HttpHeaders.createOptimized("application/json");
  private static final CharSequence PLAINTEXT_LENGTH = HttpHeaders.createOptimized(
      Integer.toString(PLAINTEXT.length()));

  @Override
  public void handle(HttpServerRequest request) {
    String path = request.path();
    boolean known = "/plaintext".equals(path) || "/json".equals(path);
    if (!known) {
      request.response().setStatusCode(404).end();
    } else if (request.method() != HttpMethod.GET) {
      request.response().setStatusCode(405).putHeader(HttpHeaders.ALLOW, "GET").end();
    } else if ("/plaintext".equals(path)) {
      MultiMap headers = request.response().headers();
      headers.add(HttpHeaders.CONTENT_TYPE, TEXT_PLAIN).add(HttpHeaders.CONTENT_LENGTH, PLAINTEXT_LENGTH);
      request.response().end(PLAINTEXT);
    } else {
      request.response().putHeader(HttpHeaders.CONTENT_TYPE, APPLICATION_JSON)
          .end(new JsonObject().put("message", MESSAGE).toBuffer());
    }
  }

  public static final class Provider implements HttpServiceProvider {
    @Override
    public String name() {
      return "hello-http";
    }

    @Override
    public Future<Handler<HttpServerRequest>> create(ServiceContext context) {
      return Future.succeededFuture(new HelloHttpService());
    }
  }
}
