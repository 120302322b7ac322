package io.reuseport.server;

import io.reuseport.stats.HttpRequestStats;
import io.reuseport.stats.InstanceCounters;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.spi.metrics.HttpServerMetrics;
import io.vertx.core.spi.observability.HttpRequest;
import io.vertx.core.spi.observability.HttpResponse;

/**
 * Counts one instance's HTTP requests through Vert.x's metrics SPI, which its HTTP connections call on their own
 * event loop, the instance's: no handler of the service is wrapped, and Router end handlers stay the service's own.
 * Each request is one {@link Request}: it ends once, answered or reset, whatever Vert.x reports after that.
 */
final class HttpRequestCounter implements HttpServerMetrics<HttpRequestCounter.Request, Void, Void> {

  /** One request in flight. */
  static final class Request {
    final long startNanos = System.nanoTime();
    boolean ended;
  }

  private final InstanceCounters counters;
  private final HttpRequestStats stats;

  HttpRequestCounter(InstanceCounters counters) {
    this.counters = counters;
    this.stats = counters.http;
  }

  @Override
  public Request requestBegin(Void socket, HttpRequest request) {
    stats.begin();
    return new Request();
  }

  @Override
  public void responseEnd(Request request, HttpResponse response, long bytesWritten) {
    if (request != null && !request.ended) {
      request.ended = true;
      stats.answered(response.statusCode(), System.nanoTime() - request.startNanos);
    }
  }

  @Override
  public void requestReset(Request request) {
    if (request != null && !request.ended) {
      request.ended = true;
      stats.reset();
    }
  }

  @Override
  public void bytesRead(Void socket, SocketAddress remote, long bytes) {
    counters.tcpBytesIn += bytes;
  }

  @Override
  public void bytesWritten(Void socket, SocketAddress remote, long bytes) {
    counters.tcpBytesOut += bytes;
  }
}
