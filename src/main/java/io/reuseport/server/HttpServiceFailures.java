package io.reuseport.server;

import io.netty.channel.Channel;
import io.reuseport.http.ChannelHttpServer;
import io.reuseport.stats.InstanceCounters;
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
 *
 * <p>An exception thrown later, outside the request handler (in a timer, a future's callback), is not the request
 * handler's: Vert.x 5 hands it to the context's exception handler ({@code ContextImpl.reportException}; a request's
 * duplicated context hands it to the instance's), which otherwise only logs "Unhandled exception". {@link #later}
 * counts it as one {@code errors} of the instance at once: which connection it concerned is not known, and nothing
 * is changed for the client (the callback may still answer; otherwise the request waits for the idle timeout).
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

  /**
   * The exception handler of an instance's context: counts each exception thrown there outside a request handler
   * (a service's timer or callback, and any of our own on that loop) as one {@code tcp.errors}, with a WARN. Runs
   * on the instance's event loop.
   */
  static Handler<Throwable> later(InstanceCounters counters) {
    return cause -> {
      counters.tcpErrors++;
      LOG.warn("instance {}: service error outside a request handler (in a timer or a callback): {}",
          counters.instanceId, cause.toString());
      LOG.debug("the service error", cause);
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
