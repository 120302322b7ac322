package io.reuseport.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.impl.Http1xServerConnection;
import io.vertx.core.net.impl.VertxHandler;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The drain of one {@link ChannelHttpServer}'s connections, so that a stop loses no request a client sent:
 * <ul>
 *   <li>HTTP/1.x: from the drain on, every response carries {@code Connection: close} and its connection closes
 *   once that response is written; the client was told, so it sends nothing more on it. A connection that is idle
 *   when the drain starts stays open until its next request (answered so) or the end of the drain: a request may be
 *   on its way on it, and closing it now would lose that request (clients such as wrk count it as a read error).
 *   Vert.x's own shutdown closes idle HTTP/1 connections at once, which is why it is not used for them.</li>
 *   <li>HTTP/2: Vert.x's connection shutdown ({@code GOAWAY}, then close once its streams are done).</li>
 * </ul>
 * Connections still open when the drain's time is up are the caller's to close. Everything here runs on the
 * server's event loop. Until the drain starts, an HTTP/1.x connection carries no handler of the drain: its requests and
 * writes cost nothing here.
 */
final class HttpDrain {

  private static final String HANDLER_NAME = "reuseport-drain";

  private volatile boolean draining;
  private long deadlineNanos;
  private final Map<Channel, HttpConnection> http2 = new HashMap<>();

  /**
   * A request's headers arrived on this connection: from here on its responses can be drained. Called for every
   * request, and cheap for HTTP/1.x until the drain starts (the connections open then are marked by {@link #start});
   * a response always follows a request, so a connection first seen during the drain is marked here.
   */
  void request(Channel channel, HttpConnection connection, boolean http1) {
    if (http1) {
      if (draining) {
        closeWhenDraining(channel);
      }
      return;
    }
    if (draining) {
      connection.shutdown(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
    } else if (http2.putIfAbsent(channel, connection) == null) {
      channel.closeFuture().addListener(closed -> http2.remove(channel));
    }
  }

  /**
   * Starts the drain of {@code open}, the server's connections: HTTP/1.x ones are marked now (a response may be on
   * its way), HTTP/2 ones get {@code GOAWAY}; connections seen later are drained at their first request.
   */
  void start(long timeoutMs, Iterable<Channel> open) {
    deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    draining = true;
    for (Channel channel : open) {
      if (channel.pipeline().get("handler") instanceof VertxHandler<?> handler
          && handler.getConnection() instanceof Http1xServerConnection) {
        closeWhenDraining(channel);
      }
    }
    for (HttpConnection connection : http2.values().toArray(HttpConnection[]::new)) {
      connection.shutdown(timeoutMs, TimeUnit.MILLISECONDS);
    }
  }

  /** Puts the handler below just before Vert.x's HTTP/1.x handler, once per connection. */
  private void closeWhenDraining(Channel channel) {
    if (channel.pipeline().get(HANDLER_NAME) == null && channel.pipeline().get("handler") != null) {
      channel.pipeline().addBefore("handler", HANDLER_NAME, new CloseWhenDraining(this));
    }
  }

  /**
   * Sees each HTTP/1.x response Vert.x writes (it sits just before Vert.x's handler): while draining, marks it
   * {@code Connection: close} and closes the connection once its last part is written. Interim (1xx) responses
   * pass untouched; a response whose head was written before the drain started ends as it began, and the next one
   * is marked.
   */
  private static final class CloseWhenDraining extends ChannelOutboundHandlerAdapter {

    private final HttpDrain drain;
    private boolean closeAfterResponse;

    CloseWhenDraining(HttpDrain drain) {
      this.drain = drain;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      if (msg instanceof HttpResponse && drain.draining) {
        HttpResponse response = (HttpResponse) msg;
        if (response.status().code() >= 200) {
          response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
          closeAfterResponse = true;
        }
      }
      if (msg instanceof LastHttpContent && closeAfterResponse) {
        ctx.write(msg, promise.unvoid()).addListener(ChannelFutureListener.CLOSE);
        return;
      }
      ctx.write(msg, promise);
    }
  }
}
