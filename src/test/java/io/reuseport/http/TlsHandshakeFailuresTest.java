package io.reuseport.http;

import io.reuseport.app.RunningServer;
import io.reuseport.testsupport.AsyncServers;
import io.reuseport.testsupport.RouterHttpService;
import io.reuseport.testsupport.VertxClients;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Failed TLS handshakes are counted per instance ({@code /stats} {@code http.tlsHandshakeFailures}, {@code /metrics}
 * {@code reuseport_http_tls_handshake_failures_total{worker}}) and not as the server's errors: against a real TLS
 * server on loopback, a client writing plain HTTP to it and a client that rejects the server's certificate count
 * one each; the controls, a good TLS client and a connection opened and closed without a byte (a TCP health check),
 * count none, and {@code tcp.errors} stays 0.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class TlsHandshakeFailuresTest {

  private RunningServer server;
  private HttpClient good;
  private HttpClient admin;
  private NetClient raw;
  private NetClient distrustful;

  @AfterEach
  void stop(VertxTestContext test) {
    Future<Void> closed = Future.succeededFuture();
    for (HttpClient c : new HttpClient[] {good, admin}) {
      if (c != null) {
        closed = closed.transform(x -> c.close());
      }
    }
    for (NetClient c : new NetClient[] {raw, distrustful}) {
      if (c != null) {
        closed = closed.transform(x -> c.close());
      }
    }
    closed.transform(x -> server == null ? Future.succeededFuture() : server.stop())
        .onComplete(test.succeedingThenComplete());
  }

  @Test
  void failedHandshakesAreCountedAndGoodClientsAndHealthChecksAreNot(Vertx vertx, VertxTestContext test,
                                                                     @TempDir Path dir) throws Exception {
    Path[] pem = ChannelHttpServerTest.selfSigned(dir);
    good = vertx.createHttpClient(new HttpClientOptions().setSsl(true).setTrustAll(true).setVerifyHost(false));
    admin = vertx.createHttpClient();
    raw = vertx.createNetClient();
    // trusts nothing but the JDK's roots: the self-signed certificate fails its handshake
    distrustful = vertx.createNetClient(new NetClientOptions().setSsl(true).setHostnameVerificationAlgorithm(""));
    AsyncServers.start(new JsonObject().put("service", RouterHttpService.NAME).put("instances", 1)
            .put("tlsCertPath", pem[0].toString()).put("tlsKeyPath", pem[1].toString()))
        .compose(started -> {
          server = started;
          return get(server.port()).compose(x -> get(server.port()));
        })
        .compose(answered -> raw.connect(server.port(), VertxClients.LOOPBACK).compose(NetSocket::close))
        .compose(healthCheck -> AsyncServers.awaitTotal(vertx, server, s -> s.tcp().closed(), 1))
        .compose(controls -> AsyncServers.total(server, s -> s.http().tlsHandshakeFailures()))
        .compose(afterControls -> plainHttpTo(server.port())
            .compose(x -> distrustful.connect(server.port(), VertxClients.LOOPBACK)
                .map(connected -> "connected").otherwise(err -> "refused: " + err.getMessage()))
            // the controls' connection (health check) and both failed ones closed
            .compose(x -> AsyncServers.awaitTotal(vertx, server, s -> s.tcp().closed(), 3))
            .compose(x -> VertxClients.get(admin, server.adminPort(), "/stats?fresh=true"))
            .compose(stats -> VertxClients.get(admin, server.adminPort(), "/metrics")
                .map(metrics -> {
                  test.verify(() -> {
                    assertThat(afterControls).as("failures after 2 good requests and a health check").isZero();
                    JsonObject report = new JsonObject(stats.body());
                    assertThat(report.getJsonArray("instances").getJsonObject(0).getJsonObject("http")
                        .getLong("tlsHandshakeFailures")).as("instances[0].http.tlsHandshakeFailures after plain"
                        + " HTTP and a distrustful client").isEqualTo(2);
                    assertThat(report.getJsonObject("totals").getJsonObject("http").getLong("tlsHandshakeFailures"))
                        .isEqualTo(2);
                    assertThat(report.getJsonObject("totals").getJsonObject("tcp").getLong("errors"))
                        .as("tcp.errors: the server's own faults").isZero();
                    assertThat(metrics.body())
                        .contains("reuseport_http_tls_handshake_failures_total{worker=\"0\"} 2.0");
                  });
                  return null;
                })))
        .onComplete(test.succeedingThenComplete());
  }

  private Future<Integer> get(int port) {
    return good.request(HttpMethod.GET, port, VertxClients.LOOPBACK, "/id")
        .compose(request -> request.send())
        .compose(response -> response.statusCode() == 200 ? Future.succeededFuture(200)
            : Future.failedFuture("the good TLS client got " + response.statusCode()));
  }

  /** Writes a plain HTTP request to the TLS port; completes when the server closed the connection. */
  private Future<Void> plainHttpTo(int port) {
    return raw.connect(port, VertxClients.LOOPBACK).compose(socket -> {
      Promise<Void> closed = Promise.promise();
      socket.closeHandler(v -> closed.tryComplete());
      socket.handler(data -> { });
      socket.write(Buffer.buffer("GET /id HTTP/1.1\r\nHost: a\r\n\r\n"));
      return closed.future();
    });
  }
}
