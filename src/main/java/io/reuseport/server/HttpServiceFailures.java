package io.reuseport.server;

import io.netty.channel.Channel;
import io.reuseport.http.ChannelHttpServer;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What happens when an HTTP service's request handler throws, as for a byte service that throws: the connection
 * counts one {@code errors} when it closes ({@link HttpConnectionEnding}), and the client is not left waiting. An
 * HTTP/1.x connection gets {@code 500} (when nothing of the answer was sent yet) and is closed; an HTTP/2 stream gets
 * {@code 500} or a reset, and the connection's other streams go on. Without it Vert.x would only log the exception
 * and leave the request unanswered until the idle timeout. A vertx-web {@code Router} catches its handlers'
 * exceptions itself (its failure handler answers {@code 500}): those never reach here.
 */
final class HttpServiceFailures {

  private static final Logger LOG = LoggerFactory.getLogger(HttpServiceFailures.class);

  private HttpServiceFailures() {
  }

  /** {@code service}, with its exceptions handled as above. */
  static Handler<HttpServerRequest> guard(Handler<HttpServerRequest> service) {
    return request -> {
      try {
        service.handle(request);
      } catch (RuntimeException e) {
        failed(request, e);
      }
    };
  }

  private static void failed(HttpServerRequest request, Throwable cause) {
    Channel channel = ChannelHttpServer.channelOf(request);
    HttpConnectionEnding ending = channel.pipeline().get(HttpConnectionEnding.class);
    if (ending != null) {
      ending.serviceFailed();
    }
    LOG.warn("service error on HTTP connection {} ({} {}): {}", channel.remoteAddress(), request.method(),
        request.path(), cause.toString());
    LOG.debug("the service error", cause);
    HttpServerResponse response = request.response();
    boolean http2 = request.version() == HttpVersion.HTTP_2;
    if (response.ended() || response.closed()) {
      if (!http2) {
        channel.close();
      }
    } else if (response.headWritten()) {
      if (http2) {
        response.reset();
      } else {
        channel.close();
      }
    } else {
      response.setStatusCode(500);
      if (!http2) {
        response.putHeader("connection", "close");
      }
      response.end().onComplete(sent -> {
        if (!http2) {
          channel.close();
        }
      });
    }
  }
}
