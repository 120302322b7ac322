package io.reuseport.bench;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.transport.Transport;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * The two Vert.x HTTP servers bench/http.sh measures this project's {@code --service hello-http} against, both with
 * the public API only, epoll, and the same handler ({@code GET /plaintext} answers {@code Hello, World!} as
 * {@code text/plain}; anything else 404). HTTP/1.1 and h2c (prior knowledge and upgrade, Vert.x's defaults).
 * <ul>
 *   <li>{@code shared}: what Vert.x's documentation shows: one {@link Vertx} with N event loops, the verticle that
 *   calls {@code createHttpServer().listen(port)} deployed N times. Vert.x shares the server: one kernel listener,
 *   accepted on its acceptor thread and handed round-robin to the verticles' loops.</li>
 *   <li>{@code per-vertx}: what a Vert.x expert would run to get a listener per loop with the public API: N Vertx
 *   instances of one event loop each, each with its own HTTP server with {@code setReusePort(true)} (separate Vertx
 *   instances do not share a server, so each binds its own socket).</li>
 * </ul>
 * Not a test: a main class, started by bench/http.sh from target/test-classes.
 *
 * <pre>
 * java -cp target/reuseport-server.jar:target/test-classes io.reuseport.bench.HttpPeers shared|per-vertx PORT N
 * </pre>
 */
public final class HttpPeers {

  private static final String HOST = "127.0.0.1";
  private static final Buffer HELLO = Buffer.buffer("Hello, World!");
  private static final CharSequence TEXT_PLAIN = HttpHeaders.createOptimized("text/plain");

  private HttpPeers() {
  }

  public static void main(String[] args) throws InterruptedException {
    if (args.length != 3 || !(args[0].equals("shared") || args[0].equals("per-vertx"))) {
      System.err.println("usage: HttpPeers shared|per-vertx PORT N");
      System.exit(2);
    }
    int port = Integer.parseInt(args[1]);
    int instances = Integer.parseInt(args[2]);
    Future<?> started = args[0].equals("shared") ? shared(port, instances) : perVertx(port, instances);
    CountDownLatch done = new CountDownLatch(1);
    started.onComplete(result -> {
      if (result.failed()) {
        System.err.println("HttpPeers: " + result.cause());
        System.exit(1);
      }
      System.out.println("HttpPeers: " + args[0] + ", " + instances + " event loops, listening on " + HOST + ":"
          + port);
      done.countDown();
    });
    done.await();
  }

  /** One Vertx of N event loops, N verticles each listening on the port: Vert.x shares one listener. */
  private static Future<?> shared(int port, int instances) {
    Vertx vertx = epoll(instances);
    return vertx.deployVerticle(() -> new HelloVerticle(new HttpServerOptions().setPort(port).setHost(HOST)),
        new DeploymentOptions().setInstances(instances));
  }

  /** N Vertx of one event loop each, each with its own listener (SO_REUSEPORT) on the port. */
  private static Future<?> perVertx(int port, int instances) {
    List<Future<?>> started = new ArrayList<>();
    for (int i = 0; i < instances; i++) {
      started.add(epoll(1).deployVerticle(
          new HelloVerticle(new HttpServerOptions().setPort(port).setHost(HOST).setReusePort(true))));
    }
    return Future.all(started);
  }

  private static Vertx epoll(int eventLoops) {
    Vertx vertx = Vertx.builder()
        .with(new VertxOptions().setEventLoopPoolSize(eventLoops).setWorkerPoolSize(1).setInternalBlockingPoolSize(1))
        .withTransport(Transport.EPOLL)
        .build();
    if (!vertx.isNativeTransportEnabled()) {
      System.err.println("HttpPeers: no epoll: " + vertx.unavailableNativeTransportCause());
      System.exit(1);
    }
    return vertx;
  }

  private static final class HelloVerticle extends VerticleBase {

    private final HttpServerOptions options;

    HelloVerticle(HttpServerOptions options) {
      this.options = options;
    }

    @Override
    public Future<?> start() {
      Handler<HttpServerRequest> hello = request -> {
        if ("/plaintext".equals(request.path())) {
          request.response().putHeader(HttpHeaders.CONTENT_TYPE, TEXT_PLAIN).end(HELLO);
        } else {
          request.response().setStatusCode(404).end();
        }
      };
      return vertx.createHttpServer(options).requestHandler(hello).listen();
    }
  }
}
