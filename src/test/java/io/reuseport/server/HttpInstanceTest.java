package io.reuseport.server;

import io.reuseport.app.RunningServer;
import io.reuseport.config.ConfigException;
import io.reuseport.stats.InstanceSnapshot;
import io.reuseport.testsupport.AsyncServers;
import io.reuseport.testsupport.RouterHttpService;
import io.reuseport.testsupport.ThrowingHttpService;
import io.reuseport.testsupport.VertxClients;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An HTTP service gets what byte services have: a listener of its own per instance ({@code AF_INET} for an IPv4
 * host), each connection served on its instance's loop, the connection cap, the idle timeout, and its requests
 * counted per instance. Against the real server on loopback, with Vert.x clients.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class HttpInstanceTest {

  private RunningServer server;
  private WebClient web;
  private NetClient net;
  private NetClient resetting;

  @AfterEach
  void stop(VertxTestContext test) {
    if (web != null) {
      web.close();
    }
    Future<Void> closed = Future.join(net == null ? Future.succeededFuture() : net.close(),
        resetting == null ? Future.succeededFuture() : resetting.close()).mapEmpty();
    closed.transform(x -> server == null ? Future.succeededFuture() : server.stop())
        .onComplete(test.succeedingThenComplete());
  }

  @Test
  void helloHttpAnswersTheTechEmpowerShapesAndCountsEachRequestByStatusClass(Vertx vertx, VertxTestContext test) {
    web = WebClient.create(vertx, new WebClientOptions().setDefaultHost(VertxClients.LOOPBACK));
    AsyncServers.start(new JsonObject().put("service", "hello-http"))
        .compose(started -> {
          server = started;
          return Future.all(get("/plaintext"), get("/json"), get("/nothing-here"),
              web.post(server.port(), VertxClients.LOOPBACK, "/json").send());
        })
        .compose(all -> {
          HttpResponse<Buffer> plaintext = all.resultAt(0);
          HttpResponse<Buffer> json = all.resultAt(1);
          test.verify(() -> {
            assertThat(plaintext.statusCode()).isEqualTo(200);
            assertThat(plaintext.getHeader("content-type")).isEqualTo("text/plain");
            assertThat(plaintext.bodyAsString()).isEqualTo("Hello, World!");
            assertThat(json.statusCode()).isEqualTo(200);
            assertThat(json.getHeader("content-type")).isEqualTo("application/json");
            assertThat(json.bodyAsJsonObject()).isEqualTo(new JsonObject().put("message", "Hello, World!"));
            assertThat(((HttpResponse<?>) all.resultAt(2)).statusCode()).isEqualTo(404);
            assertThat(((HttpResponse<?>) all.resultAt(3)).statusCode()).isEqualTo(405);
          });
          return AsyncServers.snapshots(server);
        })
        .onComplete(test.succeeding(snapshots -> test.verify(() -> {
          InstanceSnapshot.HttpCounts total = snapshots.stream().map(InstanceSnapshot::http)
              .reduce(InstanceSnapshot.HttpCounts.ZERO, InstanceSnapshot.HttpCounts::plus);
          assertThat(total.requests()).isEqualTo(4);
          assertThat(total.statusClass(2)).isEqualTo(2);
          assertThat(total.statusClass(4)).isEqualTo(2);
          assertThat(total.active()).isZero();
          assertThat(snapshots.stream().mapToLong(s -> s.tcp().accepted()).sum()).as("connections").isPositive();
          test.completeNow();
        })));
  }

  @Test
  void eachInstanceListensOnItsOwnIpv4SocketAndAnswersOnItsOwnEventLoop(Vertx vertx, VertxTestContext test) {
    // a connection per request, so that the kernel picks an instance for each
    web = WebClient.create(vertx, new WebClientOptions().setKeepAlive(false));
    AsyncServers.start(new JsonObject().put("service", RouterHttpService.NAME).put("steering", "kernel"))
        .compose(started -> {
          server = started;
          test.verify(() -> assertThat(listeners(server.port())).as("listeners on the port in /proc/net/tcp, tcp6")
              .containsExactly(2, 0));
          return untilEveryInstanceAnswered(new HashMap<>(), 400);
        })
        .onComplete(test.succeeding(threads -> test.verify(() -> {
          assertThat(threads).hasSize(2);
          for (int id = 0; id < 2; id++) {
            assertThat(threads.get(id)).as("thread that answered for instance %d", id)
                .isEqualTo(server.instances().get(id).eventLoop());
          }
          test.completeNow();
        })));
  }

  @Test
  void aConnectionOverTheCapIsClosedAtOnceAndCountedRejected(Vertx vertx, VertxTestContext test) {
    net = vertx.createNetClient();
    Buffer request = Buffer.buffer("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n");
    AsyncServers.start(new JsonObject().put("service", "hello-http").put("instances", 1)
            .put("maxConnectionsPerInstance", 1))
        .compose(started -> {
          server = started;
          return net.connect(server.port(), VertxClients.LOOPBACK);
        })
        .compose(first -> VertxClients.exchange(first, request, "HTTP/1.1 200".length()).map(first))
        .compose(first -> net.connect(server.port(), VertxClients.LOOPBACK)
            .compose(second -> {
              second.write(request);
              return VertxClients.closedByServer(second);
            })
            .compose(nothing -> {
              test.verify(() -> assertThat(nothing.length()).as("bytes the rejected connection got").isZero());
              // the admitted one still serves
              return VertxClients.exchange(first, request, "HTTP/1.1 200".length());
            }))
        .compose(answer -> {
          test.verify(() -> assertThat(answer.toString()).startsWith("HTTP/1.1 200"));
          return AsyncServers.snapshots(server);
        })
        .onComplete(test.succeeding(snapshots -> test.verify(() -> {
          assertThat(snapshots.get(0).tcp().rejected()).isEqualTo(1);
          assertThat(snapshots.get(0).tcp().accepted()).isEqualTo(1);
          test.completeNow();
        })));
  }

  @Test
  void anIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout(Vertx vertx, VertxTestContext test) {
    net = vertx.createNetClient();
    Buffer request = Buffer.buffer("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n");
    AsyncServers.start(new JsonObject().put("service", "hello-http").put("instances", 1)
            .put("idleTimeoutSeconds", 1))
        .compose(started -> {
          server = started;
          return net.connect(server.port(), VertxClients.LOOPBACK);
        })
        .compose(socket -> VertxClients.exchange(socket, request, "HTTP/1.1 200".length())
            .compose(answer -> VertxClients.closedByServer(socket)))
        .compose(rest -> AsyncServers.awaitTotal(vertx, server, s -> s.tcp().closed(), 1))
        .onComplete(test.succeedingThenComplete());
  }

  /**
   * The idle timeout only closes a connection that neither read nor wrote for that long: one that asks again every
   * 0.4 s stays open for 6 requests (2.4 s, twice the longest an idle one lives with a 1 s timeout), all answered on
   * the one connection. The test above is the control: the same connection silent after its first answer is closed.
   */
  @Test
  void aKeepAliveConnectionInUseOutlivesTheIdleTimeout(Vertx vertx, VertxTestContext test) {
    net = vertx.createNetClient();
    Buffer request = Buffer.buffer("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n");
    int requests = 6;
    AsyncServers.start(new JsonObject().put("service", "hello-http").put("instances", 1)
            .put("idleTimeoutSeconds", 1))
        .compose(started -> {
          server = started;
          return net.connect(server.port(), VertxClients.LOOPBACK);
        })
        .compose(socket -> {
          Future<Buffer> chain = VertxClients.exchange(socket, request, "HTTP/1.1 200".length());
          for (int i = 1; i < requests; i++) {
            chain = chain.compose(answer -> vertx.timer(400)
                .compose(t -> VertxClients.exchange(socket, request, "HTTP/1.1 200".length())));
          }
          return chain;
        })
        .compose(last -> AsyncServers.snapshots(server))
        .onComplete(test.succeeding(snapshots -> test.verify(() -> {
          InstanceSnapshot.TcpCounts tcp = snapshots.get(0).tcp();
          assertThat(tcp.accepted()).as("one connection for every request").isEqualTo(1);
          assertThat(tcp.closed()).as("not closed while in use").isZero();
          test.completeNow();
        })));
  }

  /**
   * An HTTP connection counts how it ended as a byte connection does: a client that closes cleanly after its answer
   * counts neither {@code resets} nor {@code errors}; one that closes with a reset ({@code SO_LINGER} 0, as load
   * balancers and benchmark clients do) counts one {@code resets} and no error. The clean client is the control.
   */
  @Test
  void aClientThatResetsAfterItsAnswerCountsOneResetAndACleanCloseCountsNeither(Vertx vertx,
                                                                               VertxTestContext test) {
    net = vertx.createNetClient();
    resetting = vertx.createNetClient(new NetClientOptions().setSoLinger(0));
    Buffer request = Buffer.buffer("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n");
    AsyncServers.start(new JsonObject().put("service", "hello-http").put("instances", 1))
        .compose(started -> {
          server = started;
          return answeredThenClosed(net, request);
        })
        .compose(v -> AsyncServers.awaitTotal(vertx, server, s -> s.tcp().closed(), 1))
        .compose(v -> AsyncServers.snapshots(server))
        .compose(afterClean -> {
          test.verify(() -> assertThat(afterClean.get(0).tcp())
              .as("a clean close").extracting(t -> t.resets(), t -> t.errors()).containsExactly(0L, 0L));
          return answeredThenClosed(resetting, request);
        })
        .compose(v -> AsyncServers.awaitTotal(vertx, server, s -> s.tcp().closed(), 2))
        .compose(v -> AsyncServers.snapshots(server))
        .onComplete(test.succeeding(afterReset -> test.verify(() -> {
          InstanceSnapshot.TcpCounts tcp = afterReset.get(0).tcp();
          assertThat(tcp.accepted()).isEqualTo(2);
          assertThat(tcp.active()).isZero();
          assertThat(tcp.resets()).as("the resetting client's close").isEqualTo(1);
          assertThat(tcp.errors()).as("no error: a reset is how that peer closes").isZero();
          test.completeNow();
        })));
  }

  /**
   * A request handler that throws counts one {@code errors} for its connection, as a byte service's does, and the
   * client is answered {@code 500} and the connection closed instead of being left waiting; a request the same
   * service answers, on a connection the client then closes, is the control and counts no error.
   */
  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  void aRequestHandlerThatThrowsAnswers500AndCountsOneError(Vertx vertx, VertxTestContext test) {
    net = vertx.createNetClient();
    AsyncServers.start(new JsonObject().put("service", ThrowingHttpService.NAME).put("instances", 1))
        .compose(started -> {
          server = started;
          return answeredThenClosed(net, Buffer.buffer("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"));
        })
        .compose(v -> net.connect(server.port(), VertxClients.LOOPBACK))
        .compose(socket -> {
          Future<Buffer> closed = VertxClients.closedByServer(socket);
          return socket.write(Buffer.buffer("GET /throw HTTP/1.1\r\nHost: x\r\n\r\n")).compose(w -> closed);
        })
        .compose(answer -> {
          test.verify(() -> assertThat(answer.toString()).startsWith("HTTP/1.1 500"));
          return AsyncServers.awaitTotal(vertx, server, s -> s.tcp().closed(), 2);
        })
        .compose(v -> AsyncServers.snapshots(server))
        .onComplete(test.succeeding(after -> test.verify(() -> {
          InstanceSnapshot.TcpCounts tcp = after.get(0).tcp();
          assertThat(tcp.accepted()).isEqualTo(2);
          assertThat(tcp.errors()).as("the throwing request's connection only").isEqualTo(1);
          assertThat(tcp.resets()).isZero();
          test.completeNow();
        })));
  }

  /** One request on a fresh connection of {@code client}, answered, then the connection closed by the client. */
  private Future<Void> answeredThenClosed(NetClient client, Buffer request) {
    return client.connect(server.port(), VertxClients.LOOPBACK)
        .compose(socket -> VertxClients.exchange(socket, request, "HTTP/1.1 200".length())
            .compose(answer -> socket.close()));
  }

  @Test
  void statsAndMetricsShowEachWorkersRequests(Vertx vertx, VertxTestContext test) {
    web = WebClient.create(vertx);
    AsyncServers.start(new JsonObject().put("service", RouterHttpService.NAME).put("instances", 1))
        .compose(started -> {
          server = started;
          return Future.all(getOn(server.port(), "/status/204"), getOn(server.port(), "/status/503"),
              getOn(server.port(), "/id"));
        })
        // the fresh report first: /metrics reads the collector's latest snapshots, which it brings in
        .compose(answered -> getOn(server.adminPort(), "/stats?fresh=true"))
        .compose(stats -> Future.all(Future.succeededFuture(stats), getOn(server.adminPort(), "/metrics")))
        .onComplete(test.succeeding(admin -> test.verify(() -> {
          JsonObject stats = ((HttpResponse<Buffer>) admin.resultAt(0)).bodyAsJsonObject();
          JsonObject http = stats.getJsonArray("instances").getJsonObject(0).getJsonObject("http");
          assertThat(http.getLong("requests")).isEqualTo(3);
          assertThat(http.getJsonObject("byStatusClass").getLong("2xx")).isEqualTo(2);
          assertThat(http.getJsonObject("byStatusClass").getLong("5xx")).isEqualTo(1);
          assertThat(http.getJsonObject("latency").fieldNames()).containsExactlyInAnyOrder("p50Ms", "p99Ms");
          assertThat(stats.getJsonObject("totals").getJsonObject("http").getLong("requests")).isEqualTo(3);
          assertThat(stats.getJsonObject("fairness").getJsonObject("httpRequests").getLong("sample")).isEqualTo(3);
          assertThat(stats.getBoolean("http")).isTrue();
          String metrics = ((HttpResponse<Buffer>) admin.resultAt(1)).bodyAsString();
          assertThat(metrics)
              .contains("reuseport_http_requests_total{status_class=\"2xx\",worker=\"0\"} 2.0")
              .contains("reuseport_http_requests_total{status_class=\"5xx\",worker=\"0\"} 1.0")
              .contains("reuseport_http_request_duration_seconds_bucket{worker=\"0\",le=\"+Inf\"} 3")
              .contains("reuseport_http_request_duration_seconds_count{worker=\"0\"} 3");
          test.completeNow();
        })));
  }

  @Test
  void aRequestInFlightWhenTheServerStopsIsAnsweredWhole(Vertx vertx, VertxTestContext test) {
    web = WebClient.create(vertx);
    AsyncServers.start(new JsonObject().put("service", RouterHttpService.NAME).put("instances", 1))
        .compose(started -> {
          server = started;
          Future<HttpResponse<Buffer>> slow = getOn(server.port(), "/slow?ms=500");
          // the request is in flight (its head counted) before the stop begins
          return AsyncServers.awaitTotal(vertx, server, s -> s.http().active(), 1)
              .compose(inFlight -> {
                RunningServer stopping = server;
                server = null;
                return Future.all(slow, stopping.stop());
              })
              .map(both -> slow.result());
        })
        .onComplete(test.succeeding(response -> test.verify(() -> {
          assertThat(response.statusCode()).isEqualTo(200);
          assertThat(response.bodyAsString()).isEqualTo("slow");
          test.completeNow();
        })));
  }

  @Test
  void aTlsFileThatCannotBeReadOrSharedBalancingStopsTheStartNamingTheSetting(VertxTestContext test) {
    AsyncServers.start(new JsonObject().put("service", "hello-http").put("tlsCertPath", "/nonexistent/cert.pem"))
        .recover(half -> {
          test.verify(() -> assertThat(half).isInstanceOf(ConfigException.class).hasMessageContaining("tlsKeyPath"));
          return AsyncServers.start(new JsonObject().put("service", "hello-http")
              .put("tlsCertPath", "/nonexistent/cert.pem").put("tlsKeyPath", "/nonexistent/key.pem"));
        })
        .recover(tls -> {
          test.verify(() -> assertThat(tls).isInstanceOf(ConfigException.class)
              .hasMessageContaining("tlsCertPath").hasMessageContaining("no such file"));
          return AsyncServers.start(new JsonObject().put("service", "hello-http").put("balancing", "shared"));
        })
        .onComplete(test.failing(shared -> test.verify(() -> {
          assertThat(shared).isInstanceOf(ConfigException.class).hasMessageContaining("balancing");
          test.completeNow();
        })));
  }

  private Future<HttpResponse<Buffer>> getOn(int port, String path) {
    return web.get(port, VertxClients.LOOPBACK, path).send();
  }

  private Future<HttpResponse<Buffer>> get(String path) {
    return web.get(server.port(), VertxClients.LOOPBACK, path).send();
  }

  /** Fresh connections (at most {@code budget}) until each instance answered; instance id to the answering thread. */
  private Future<Map<Integer, String>> untilEveryInstanceAnswered(Map<Integer, String> threads, int budget) {
    if (threads.size() == 2 || budget == 0) {
      return Future.succeededFuture(threads);
    }
    return web.get(server.port(), VertxClients.LOOPBACK, "/id").send().compose(response -> {
      JsonObject who = response.bodyAsJsonObject();
      threads.put(who.getInteger("instance"), who.getString("thread"));
      return untilEveryInstanceAnswered(threads, budget - 1);
    });
  }

  /** Listening sockets on {@code port}: in /proc/net/tcp (AF_INET), in /proc/net/tcp6. */
  private static List<Integer> listeners(int port) {
    return List.of(listening("/proc/net/tcp", port), listening("/proc/net/tcp6", port));
  }

  private static int listening(String table, int port) {
    String local = String.format(Locale.ROOT, ":%04X ", port);
    try {
      // state 0A is LISTEN
      return (int) Files.readAllLines(Path.of(table)).stream()
          .filter(line -> line.trim().split("\\s+")[1].endsWith(local.trim()) && line.trim().split("\\s+")[3]
              .equals("0A"))
          .count();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
