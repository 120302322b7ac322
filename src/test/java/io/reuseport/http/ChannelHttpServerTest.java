package io.reuseport.http;

import io.reuseport.app.RunningServer;
import io.reuseport.testsupport.AsyncServers;
import io.reuseport.testsupport.RouterHttpService;
import io.reuseport.testsupport.VertxClients;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every protocol stock Vert.x HTTP speaks works on our own listeners, through {@link ChannelHttpServer}: HTTP/1.1
 * with keep-alive and pipelining, h2c with prior knowledge and with {@code Upgrade: h2c}, TLS with ALPN choosing h2
 * or http/1.1, and WebSocket upgrades. This is also the guard of the seam: {@code ChannelHttpServer} is built on
 * Vert.x {@code impl}/{@code internal} classes as they are in 5.0.7, and a Vert.x upgrade that changes them fails
 * here first ({@link #theSeamWasCheckedAgainstThisVertxVersion} names what to re-read).
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class ChannelHttpServerTest {

  /** The Vert.x version whose bytecode {@link ChannelHttpServer} was checked against. */
  private static final String CHECKED_AGAINST = "5.0.7";

  private RunningServer server;
  private HttpClient http;
  private NetClient net;
  private WebSocketClient ws;

  @AfterEach
  void stop(VertxTestContext test) {
    Future<Void> closed = Future.succeededFuture();
    if (http != null) {
      closed = closed.transform(x -> http.close());
    }
    if (net != null) {
      closed = closed.transform(x -> net.close());
    }
    if (ws != null) {
      closed = closed.transform(x -> ws.close());
    }
    closed.transform(x -> server == null ? Future.succeededFuture() : server.stop())
        .onComplete(test.succeedingThenComplete());
  }

  @Test
  void theSeamWasCheckedAgainstThisVertxVersion() throws Exception {
    String version = new String(io.vertx.core.Vertx.class.getResourceAsStream("/META-INF/vertx/vertx-version.txt")
        .readAllBytes()).trim();
    assertThat(version).as("Vert.x changed: re-read HttpServerImpl.listen (what it asks of createNetServer and how its"
        + " connect handler builds the HTTP pipeline), NetServerImpl (listen, isClosed, getMetrics, shutdown,"
        + " initChannel) and NetSocketImpl's constructor against ChannelHttpServer, run this class, then update"
        + " CHECKED_AGAINST").isEqualTo(CHECKED_AGAINST);
  }

  @Test
  void http11KeepAliveAndPipelinedRequestsAreAnsweredInOrder(Vertx vertx, VertxTestContext test) {
    net = vertx.createNetClient();
    String one = "GET /status/%d HTTP/1.1\r\nHost: x\r\n\r\n";
    Buffer three = Buffer.buffer(String.format(one, 201) + String.format(one, 202) + String.format(one, 204));
    start(new JsonObject())
        .compose(port -> net.connect(port, VertxClients.LOOPBACK))
        .compose(socket -> {
          Buffer received = Buffer.buffer();
          io.vertx.core.Promise<String> all = io.vertx.core.Promise.promise();
          socket.handler(data -> {
            received.appendBuffer(data);
            if (received.toString().split("HTTP/1.1 ", -1).length == 4) {
              all.tryComplete(received.toString());
            }
          });
          socket.write(three);
          return all.future().andThen(x -> socket.close());
        })
        .onComplete(test.succeeding(answers -> test.verify(() -> {
          assertThat(answers.indexOf("HTTP/1.1 201")).isLessThan(answers.indexOf("HTTP/1.1 202"));
          assertThat(answers.indexOf("HTTP/1.1 202")).isLessThan(answers.indexOf("HTTP/1.1 204"));
          test.completeNow();
        })));
  }

  @ParameterizedTest(name = "upgrade {0}")
  @ValueSource(booleans = {false, true})
  void h2cWithPriorKnowledgeAndWithAnUpgradeIsServedOnTheInstancesLoop(boolean upgrade, Vertx vertx,
                                                                        VertxTestContext test) {
    http = vertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
        .setHttp2ClearTextUpgrade(upgrade));
    start(new JsonObject())
        .compose(port -> getId(port))
        .onComplete(test.succeeding(who -> test.verify(() -> {
          assertThat(who.getString("protocol")).isEqualTo("h2");
          assertThat(who.getString("thread"))
              .isEqualTo(server.instances().get(who.getInteger("instance")).eventLoop());
          test.completeNow();
        })));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"HTTP_2", "HTTP_1_1"})
  void tlsWithAlpnServesH2AndHttp11(String version, Vertx vertx, VertxTestContext test, @TempDir Path dir)
      throws Exception {
    Path[] pem = selfSigned(dir);
    http = vertx.createHttpClient(new HttpClientOptions().setSsl(true).setTrustAll(true).setVerifyHost(false)
        .setUseAlpn(true).setProtocolVersion(HttpVersion.valueOf(version)));
    start(new JsonObject().put("tlsCertPath", pem[0].toString()).put("tlsKeyPath", pem[1].toString()))
        .compose(port -> getId(port))
        .onComplete(test.succeeding(who -> test.verify(() -> {
          assertThat(who.getString("protocol")).isEqualTo(version.equals("HTTP_2") ? "h2" : "http/1.1");
          test.completeNow();
        })));
  }

  @Test
  void aWebSocketUpgradeIsServedByTheInstanceThatAcceptedTheConnection(Vertx vertx, VertxTestContext test) {
    ws = vertx.createWebSocketClient();
    start(new JsonObject())
        .compose(port -> ws.connect(new WebSocketConnectOptions().setHost(VertxClients.LOOPBACK).setPort(port)
            .setURI("/ws")))
        .compose(socket -> {
          io.vertx.core.Promise<String> echoed = io.vertx.core.Promise.promise();
          socket.textMessageHandler(echoed::tryComplete);
          socket.writeTextMessage("hello");
          return echoed.future().compose(text -> socket.close().map(text));
        })
        .onComplete(test.succeeding(text -> test.verify(() -> {
          assertThat(text).matches("[01]:hello");
          test.completeNow();
        })));
  }

  private Future<Integer> start(JsonObject overrides) {
    return AsyncServers.start(overrides.copy().put("service", RouterHttpService.NAME)).map(started -> {
      server = started;
      return started.port();
    });
  }

  private Future<JsonObject> getId(int port) {
    return http.request(HttpMethod.GET, port, VertxClients.LOOPBACK, "/id")
        .compose(request -> request.send())
        .compose(response -> response.body())
        .map(Buffer::toJsonObject);
  }

  /** A self-signed certificate for localhost and its PKCS#8 key, as PEM files made by openssl. */
  static Path[] selfSigned(Path dir) throws IOException, InterruptedException {
    Path cert = dir.resolve("cert.pem");
    Path key = dir.resolve("key.pem");
    Process openssl = new ProcessBuilder(List.of("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
        "-keyout", key.toString(), "-out", cert.toString(), "-days", "1", "-subj", "/CN=localhost"))
        .redirectErrorStream(true).start();
    String output = new String(openssl.getInputStream().readAllBytes());
    assertThat(openssl.waitFor()).as("openssl: " + output).isZero();
    return new Path[] {cert, key};
  }
}
