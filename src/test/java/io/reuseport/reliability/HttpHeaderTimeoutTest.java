package io.reuseport.reliability;

import io.reuseport.app.RunningServer;
import io.reuseport.testsupport.AsyncServers;
import io.reuseport.testsupport.RouterHttpService;
import io.reuseport.testsupport.VertxClients;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The header timeout on a keep-alive connection after its first request ({@code http/HeaderDeadline}), over raw
 * sockets to the real server ({@code hello-http} on loopback): the next request's head is timed from its first
 * byte, so a second request trickled a header line every 250 ms is cut off with {@code headerTimeoutSeconds} 1 (the
 * control: the same trickle with 60 is answered); a connection that stays silent longer than the header timeout and
 * then sends a whole request is answered (only the idle timeout governs silence); and a pipelined pair is answered,
 * then a third request after a silence too; a WebSocket is not timed after its upgrade.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class HttpHeaderTimeoutTest {

  private static final String REQUEST = "GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n";
  private static final String BODY = "Hello, World!";
  private static final int LINES = 12;
  private static final long EVERY_MS = 250;

  private final List<RunningServer> servers = new ArrayList<>();
  private NetClient net;
  private WebSocketClient ws;

  @AfterEach
  void stop(VertxTestContext test) {
    Future<Void> closed = net == null ? Future.succeededFuture() : net.close();
    if (ws != null) {
      closed = closed.transform(x -> ws.close());
    }
    for (RunningServer s : servers) {
      closed = closed.transform(x -> s.stop());
    }
    closed.onComplete(test.succeedingThenComplete());
  }

  @Test
  void aSecondRequestTrickledOnAKeepAliveConnectionIsClosedAfterTheHeaderTimeout(Vertx vertx,
                                                                                VertxTestContext test) {
    net = vertx.createNetClient();
    // 12 header lines 250 ms apart: 3 s of trickle, past a 1 s header timeout and well within a 60 s one
    start(1)
        .compose(port -> secondRequestTrickled(vertx, port))
        .compose(cut -> start(60).compose(port -> secondRequestTrickled(vertx, port))
            .map(control -> {
              test.verify(() -> {
                assertThat(cut).as("the second request trickled, headerTimeoutSeconds 1")
                    .startsWith("first answered, closed after line ");
                assertThat(Integer.parseInt(cut.replaceAll("\\D+", ""))).isLessThan(LINES);
                assertThat(control).as("the same with headerTimeoutSeconds 60").isEqualTo("both answered");
              });
              return null;
            }))
        .onComplete(test.succeedingThenComplete());
  }

  @Test
  void aKeepAliveConnectionSilentLongerThanTheHeaderTimeoutIsStillServed(Vertx vertx, VertxTestContext test) {
    net = vertx.createNetClient();
    start(1)
        .compose(port -> net.connect(port, VertxClients.LOOPBACK))
        .compose(socket -> {
          Answers answers = new Answers(socket);
          socket.write(REQUEST);
          return answers.await(1)
              .compose(first -> wait(vertx, 2_500)) // two header timeouts and more, under the idle timeout
              .compose(waited -> {
                socket.write(REQUEST);
                return answers.await(2);
              })
              .andThen(done -> socket.close());
        })
        .onComplete(test.succeeding(outcome -> test.verify(() -> {
          assertThat(outcome).as("a request 2.5 s after the first, headerTimeoutSeconds 1").isEqualTo(2);
          test.completeNow();
        })));
  }

  @Test
  void aPipelinedPairIsAnsweredAndSoIsARequestAfterASilence(Vertx vertx, VertxTestContext test) {
    net = vertx.createNetClient();
    start(1)
        .compose(port -> net.connect(port, VertxClients.LOOPBACK))
        .compose(socket -> {
          Answers answers = new Answers(socket);
          socket.write(REQUEST + REQUEST);
          return answers.await(2)
              .compose(pair -> wait(vertx, 2_000))
              .compose(waited -> {
                socket.write(REQUEST);
                return answers.await(3);
              })
              .andThen(done -> socket.close());
        })
        .onComplete(test.succeeding(outcome -> test.verify(() -> {
          assertThat(outcome).as("two pipelined requests, then one 2 s later, headerTimeoutSeconds 1").isEqualTo(3);
          test.completeNow();
        })));
  }

  @Test
  void aWebSocketIsNotTimedAfterItsUpgrade(Vertx vertx, VertxTestContext test) {
    ws = vertx.createWebSocketClient();
    start(RouterHttpService.NAME, 1)
        .compose(port -> ws.connect(new WebSocketConnectOptions().setHost(VertxClients.LOOPBACK).setPort(port)
            .setURI("/ws")))
        .compose(socket -> {
          List<String> echoes = new ArrayList<>();
          Promise<Void> closed = Promise.promise();
          socket.closeHandler(v -> closed.tryComplete());
          // a message, then two more each after a silence longer than the header timeout: a deadline started by
          // the second would close the connection before the third
          return echo(socket, "a").onSuccess(echoes::add)
              .compose(x -> wait(vertx, 2_000)).compose(x -> echo(socket, "b")).onSuccess(echoes::add)
              .compose(x -> wait(vertx, 2_000)).compose(x -> echo(socket, "c")).onSuccess(echoes::add)
              .recover(err -> Future.succeededFuture())
              .compose(x -> socket.close().otherwiseEmpty())
              .map(x -> echoes);
        })
        .onComplete(test.succeeding(echoes -> test.verify(() -> {
          assertThat(echoes).as("echoes of three messages 2 s apart, headerTimeoutSeconds 1")
              .containsExactly("0:a", "0:b", "0:c");
          test.completeNow();
        })));
  }

  private static Future<String> echo(WebSocket socket, String text) {
    Promise<String> echoed = Promise.promise();
    socket.textMessageHandler(echoed::tryComplete);
    socket.closeHandler(v -> echoed.tryFail("closed by the server"));
    socket.writeTextMessage(text);
    return echoed.future();
  }

  private Future<Integer> start(int headerTimeoutSeconds) {
    return start("hello-http", headerTimeoutSeconds);
  }

  private Future<Integer> start(String service, int headerTimeoutSeconds) {
    return AsyncServers.start(new JsonObject().put("service", service).put("instances", 1)
        .put("headerTimeoutSeconds", headerTimeoutSeconds).put("idleTimeoutSeconds", 30)).map(s -> {
          servers.add(s);
          return s.port();
        });
  }

  private static Future<Void> wait(Vertx vertx, long ms) {
    Promise<Void> waited = Promise.promise();
    vertx.setTimer(ms, id -> waited.complete());
    return waited.future();
  }

  /**
   * Sends a whole first request; once it is answered, sends a second one's head a header line every
   * {@value #EVERY_MS} ms. Completes with {@code "both answered"}, or with {@code "first answered, closed after
   * line N"} when the server closed the connection during the trickle.
   */
  private Future<String> secondRequestTrickled(Vertx vertx, int port) {
    return net.connect(port, VertxClients.LOOPBACK).compose(socket -> {
      Answers answers = new Answers(socket);
      int[] sent = {0};
      long[] timer = {-1};
      socket.write(REQUEST);
      return answers.await(1)
          .compose(first -> {
            socket.write("GET /plaintext HTTP/1.1\r\nHost: a\r\n");
            timer[0] = vertx.setPeriodic(EVERY_MS, id -> {
              if (sent[0] < LINES) {
                sent[0]++;
                socket.write("X-Line-" + sent[0] + ": slow\r\n");
              } else {
                vertx.cancelTimer(id);
                socket.write("\r\n");
              }
            });
            return answers.await(2);
          })
          .map(both -> "both answered")
          .recover(closed -> Future.succeededFuture(answers.count() == 1
              ? "first answered, closed after line " + sent[0]
              : "closed with " + answers.count() + " answer(s)"))
          .andThen(done -> {
            vertx.cancelTimer(timer[0]);
            socket.close();
          });
    });
  }

  /** Counts the {@code hello-http} answers on one connection; {@link #await} fails once the server closed it. */
  private static final class Answers {

    private final StringBuilder received = new StringBuilder();
    private int count;
    private boolean closed;
    private int awaited;
    private Promise<Integer> waiting;

    Answers(NetSocket socket) {
      socket.handler(this::received);
      socket.closeHandler(v -> {
        closed = true;
        settle();
      });
    }

    /** Completes once {@code answers} answers arrived in all; fails if the connection closes first. */
    Future<Integer> await(int answers) {
      awaited = answers;
      waiting = Promise.promise();
      Future<Integer> result = waiting.future();
      settle();
      return result;
    }

    int count() {
      return count;
    }

    private void received(Buffer data) {
      received.append(data.toString(StandardCharsets.ISO_8859_1));
      int at;
      while ((at = received.indexOf(BODY)) >= 0) {
        count++;
        received.delete(0, at + BODY.length());
      }
      settle();
    }

    private void settle() {
      if (waiting == null) {
        return;
      }
      if (count >= awaited) {
        waiting.tryComplete(count);
      } else if (closed) {
        waiting.tryFail("closed by the server after " + count + " answer(s)");
      }
    }
  }
}
