package io.reuseport.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.vertx.core.Completable;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.impl.Http1xServerConnection;
import io.vertx.core.impl.buffer.VertxByteBufAllocator;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.internal.VertxWrapper;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.core.net.impl.NetServerImpl;
import io.vertx.core.net.impl.NetServerInternal;
import io.vertx.core.net.impl.NetSocketImpl;
import io.vertx.core.net.impl.ServerID;
import io.vertx.core.net.impl.VertxHandler;
import io.vertx.core.spi.metrics.HttpServerMetrics;
import io.vertx.core.spi.metrics.TCPMetrics;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.channels.ClosedChannelException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Stock Vert.x HTTP ({@code HttpServerImpl}: HTTP/1.1, h2c, HTTP/2 over TLS, WebSocket) serving connections that
 * <em>we</em> accepted, on our own listener, on the instance's own event loop. The server's only use of Vert.x's
 * {@code impl} and {@code internal} HTTP classes is here (see {@code ChannelHttpServerTest}, which fails when a
 * Vert.x upgrade breaks any of it).
 *
 * <p>How (checked against the Vert.x 5.0.7 bytecode; DESIGN notes §9): {@code HttpServerImpl.listen} asks its
 * {@code VertxInternal} for {@code createNetServer}, sets a connect handler that casts each {@code NetSocket} to
 * {@code NetSocketImpl} and builds the HTTP pipeline on its channel, and calls
 * {@code listen(ContextInternal, SocketAddress)}. Here the Vertx is a {@link VertxWrapper} whose
 * {@code createNetServer} returns a {@link NetServerImpl} subclass that binds nothing: {@code listen} only records
 * the context and the connect handler; {@link #serve} then does for each accepted channel what
 * {@code NetServerImpl} does for its own (TLS handshake, its idle handler, a {@code NetSocketImpl} in a
 * {@code VertxHandler}, the connect handler). Request metrics go to the {@link HttpServerMetrics} given here, which
 * Vert.x calls on the connection's loop. A shutdown is an {@link HttpDrain}: HTTP/1.x answers each further request
 * with {@code Connection: close} and then closes, HTTP/2 sends {@code GOAWAY}.
 */
public final class ChannelHttpServer {

  private final HttpServer http;
  private final ChannelNetServer tcp;
  private final SslContext tls;
  private final Vertx vertx;
  private HeaderDeadline.Sweeper headerDeadlines;
  private Runnable tlsHandshakeFailed = () -> { };

  private ChannelHttpServer(Vertx vertx, HttpServer http, ChannelNetServer tcp, SslContext tls) {
    this.vertx = vertx;
    this.http = http;
    this.tcp = tcp;
    this.tls = tls;
  }

  /**
   * Starts an HTTP server on the calling verticle's context that listens on nothing itself; {@link #serve} hands
   * it connections. Call it on the event loop that will serve them.
   *
   * @param port the port the listeners serve, reported as the server's actual port
   * @param tls TLS for every connection (with ALPN), or null for cleartext
   * @param metrics the requests' and bytes' counter, called on the connection's loop; it keeps no metric per
   *     connection
   */
  public static Future<ChannelHttpServer> start(Vertx vertx, HttpServerOptions options, int port, SslContext tls,
                                                HttpServerMetrics<?, ?, Void> metrics,
                                                Handler<HttpServerRequest> handler) {
    SeamVertx seam = new SeamVertx((VertxInternal) vertx, metrics, port);
    HttpServerOptions own = new HttpServerOptions(options).setSsl(tls != null).setUseAlpn(tls != null)
        .setPort(port);
    HttpDrain drain = seam.drain;
    HttpServer http = seam.createHttpServer(own)
        .requestHandler(request -> {
          HttpConnection conn = request.connection();
          if (conn instanceof ConnectionBase) {
            Channel channel = ((ConnectionBase) conn).channel();
            boolean http1 = conn instanceof Http1xServerConnection;
            HeaderDeadline.met(channel, request, http1);
            drain.request(channel, conn, http1);
          }
          handler.handle(request);
        });
    return http.listen(SocketAddress.inetSocketAddress(port, own.getHost()))
        .map(listening -> new ChannelHttpServer(vertx, http, seam.server, tls));
  }

  /**
   * Sets the header timeout ({@link HeaderDeadline}) of the connections served from now on; 0 (the default) = none.
   * Call it once, on the server's loop.
   */
  public ChannelHttpServer headerTimeout(long timeoutMs) {
    if (timeoutMs > 0) {
      headerDeadlines = new HeaderDeadline.Sweeper(vertx, timeoutMs);
    }
    return this;
  }

  /**
   * Calls {@code counter} on the server's loop for each TLS handshake that fails: the client sent something else
   * than TLS, offered no protocol or cipher in common, or sent an alert. A connection closed by either side before
   * its handshake completed (a TCP health check, the header timeout) is not counted. Call it once, on the loop.
   */
  public ChannelHttpServer onTlsHandshakeFailure(Runnable counter) {
    this.tlsHandshakeFailed = counter;
    return this;
  }

  /**
   * Serves one connection accepted on our listener and registered on this server's loop: its TLS handshake when
   * configured, then Vert.x's HTTP pipeline. Call it on that loop.
   */
  public void serve(Channel channel) {
    channel.config().setOption(ChannelOption.ALLOCATOR, tls != null ? channel.config().getAllocator()
        : VertxByteBufAllocator.POOLED_ALLOCATOR);
    tcp.open.put(channel, Boolean.TRUE);
    channel.closeFuture().addListener(closed -> tcp.open.remove(channel));
    if (headerDeadlines != null) {
      HeaderDeadline.arm(channel, headerDeadlines);
    }
    if (tls == null) {
      tcp.connected(channel);
      return;
    }
    SslHandler ssl = tls.newHandler(channel.alloc());
    channel.pipeline().addLast("ssl", ssl).addLast(HandshakeFailureSink.NAME, HandshakeFailureSink.INSTANCE);
    ssl.handshakeFuture().addListener(done -> {
      if (done.isSuccess()) {
        channel.pipeline().remove(HandshakeFailureSink.NAME);
        tcp.connected(channel);
      } else {
        if (!(done.cause() instanceof ClosedChannelException)) {
          tlsHandshakeFailed.run();
        }
        channel.close();
      }
    });
  }

  /**
   * Shuts every connection down gracefully (see the class comment), closing those still open after
   * {@code timeoutMs}; completes when all are closed. New connections are the caller's to refuse.
   */
  public Future<Void> shutdown(long timeoutMs) {
    return http.shutdown(timeoutMs, TimeUnit.MILLISECONDS).andThen(done -> {
      if (headerDeadlines != null) {
        headerDeadlines.stop(vertx);
      }
    });
  }

  /** The channel of the connection that carries {@code request} (HTTP/1.x or HTTP/2). */
  public static Channel channelOf(HttpServerRequest request) {
    return ((ConnectionBase) request.connection()).channel();
  }

  /** Connections served and not closed yet. */
  public int openConnections() {
    return tcp.open.size();
  }

  /**
   * Takes the exception of a failed TLS handshake, which is counted ({@link #onTlsHandshakeFailure}) and the
   * client's fault: without it, it would reach the pipeline's tail and Netty would log a WARN for each scanner or
   * misconfigured client. Between the TLS handler and Vert.x's only until the handshake completes.
   */
  @ChannelHandler.Sharable
  private static final class HandshakeFailureSink extends ChannelInboundHandlerAdapter {

    static final String NAME = "reuseport-tls-handshake";
    static final HandshakeFailureSink INSTANCE = new HandshakeFailureSink();
    private static final Logger LOG = LoggerFactory.getLogger(ChannelHttpServer.class);

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.debug("TLS handshake with {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
    }
  }

  /** The Vertx HTTP servers see: it creates the {@link ChannelNetServer} and shares no server with anyone. */
  private static final class SeamVertx extends VertxWrapper {

    private final Map<ServerID, NetServerInternal> unshared = new ConcurrentHashMap<>();
    private final HttpServerMetrics<?, ?, Void> metrics;
    private final int port;
    private final HttpDrain drain = new HttpDrain();
    private ChannelNetServer server;

    SeamVertx(VertxInternal delegate, HttpServerMetrics<?, ?, Void> metrics, int port) {
      super(delegate);
      this.metrics = metrics;
      this.port = port;
    }

    @Override
    public NetServerInternal createNetServer(NetServerOptions options) {
      server = new ChannelNetServer(this, options, metrics, port, drain);
      return server;
    }

    @Override
    public HttpServer createHttpServer(HttpServerOptions options) {
      return new io.vertx.core.http.impl.HttpServerImpl(this, options);
    }

    @Override
    public Map<ServerID, NetServerInternal> sharedTcpServers() {
      return unshared;
    }
  }

  /**
   * The TCP server under {@code HttpServerImpl}: a {@link NetServerImpl} (it casts to that class) that binds
   * nothing and sets each accepted channel up as {@code NetServerImpl} would.
   */
  private static final class ChannelNetServer extends NetServerImpl {

    private final HttpServerMetrics<?, ?, Void> metrics;
    private final int port;
    private final HttpDrain drain;
    private final Map<Channel, Boolean> open = new ConcurrentHashMap<>();
    private final boolean ssl;
    private ContextInternal context;
    private Handler<NetSocket> connectHandler;
    private volatile boolean listening;

    ChannelNetServer(VertxInternal vertx, NetServerOptions options, HttpServerMetrics<?, ?, Void> metrics, int port,
                     HttpDrain drain) {
      super(vertx, options);
      this.drain = drain;
      this.ssl = options.isSsl();
      this.metrics = metrics;
      this.port = port;
    }

    @Override
    public Future<NetServer> listen(ContextInternal listenContext, SocketAddress localAddress) {
      this.context = listenContext;
      this.connectHandler = connectHandler();
      this.listening = true;
      return listenContext.succeededFuture(this);
    }

    /** As {@code NetServerImpl}'s initializer does once a connection (and its TLS handshake) is ready. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    void connected(Channel channel) {
      initChannel(channel.pipeline(), ssl);
      VertxHandler<NetSocketImpl> handler = VertxHandler.create(chctx -> new NetSocketImpl(context, chctx, null,
          null, metrics, false));
      // NetServerImpl asks its metrics for a connection's metric here (TCPMetrics.connected, with the remote address
      // and host string); ours keep none (the socket metric type is Void), so the connection is spared the call
      handler.addHandler(socket -> context.emit(socket, connectHandler));
      channel.pipeline().addLast("handler", handler);
    }

    @Override
    public int actualPort() {
      return port;
    }

    @Override
    public boolean isClosed() {
      return !listening;
    }

    @Override
    public boolean isListening() {
      return listening;
    }

    @Override
    public synchronized TCPMetrics<?> getMetrics() {
      return metrics;
    }

    @Override
    public boolean isMetricsEnabled() {
      return metrics != null;
    }

    /** Drains every connection ({@link HttpDrain}); completes once all closed, or closes them when time is up. */
    @Override
    public Future<Void> shutdown(long timeout, TimeUnit unit) {
      listening = false;
      if (context == null) {
        return Future.succeededFuture();
      }
      io.vertx.core.Promise<Void> done = context.promise();
      context.runOnContext(v -> {
        drain.start(unit.toMillis(timeout), open.keySet());
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        waitForClose(done, deadline);
      });
      return done.future();
    }

    private void waitForClose(io.vertx.core.Promise<Void> done, long deadline) {
      if (open.isEmpty()) {
        done.tryComplete();
      } else if (System.nanoTime() - deadline >= 0) {
        open.keySet().forEach(Channel::close);
        done.tryComplete();
      } else {
        context.owner().setTimer(20, t -> waitForClose(done, deadline));
      }
    }

    @Override
    public synchronized void close(Completable<Void> completion) {
      shutdown(0, TimeUnit.SECONDS).onComplete(completion);
    }
  }
}
