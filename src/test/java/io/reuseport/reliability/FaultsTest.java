package io.reuseport.reliability;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.reuseport.app.RunningServer;
import io.reuseport.stats.StatsCollector;
import io.reuseport.testsupport.AdminStats;
import io.reuseport.testsupport.AsyncServers;
import io.reuseport.testsupport.VertxClients;
import io.reuseport.testsupport.VertxClients.Lines;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Faults inside one process: an instance whose event loop stalls, a service that throws.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
class FaultsTest {

  private static final int INTERVAL_MS = 500;
  /** How long a fresh connection waits for its instance's id: those on the stalled instance never get it. */
  private static final long ANSWER_MS = 1_000;

  private final CollectorLog log = new CollectorLog();
  private final Logger collectorLog = (Logger) LoggerFactory.getLogger(StatsCollector.class);
  private final List<NetSocket> open = new ArrayList<>();
  private RunningServer server;

  @AfterEach
  void stop(VertxTestContext test) {
    collectorLog.detachAppender(log);
    Future<Void> closed = Future.succeededFuture();
    for (NetSocket s : open) {
      closed = closed.transform(x -> s.close());
    }
    closed.transform(x -> server == null ? Future.succeededFuture() : server.stop())
        .onComplete(test.succeedingThenComplete());
  }

  @Test
  void aStalledInstanceIsReportedStaleAndLoggedWhileTheOthersServeThenRecovers(Vertx vertx, VertxTestContext test) {
    log.start();
    collectorLog.addAppender(log);
    HttpClient http = vertx.createHttpClient();
    NetClient client = vertx.createNetClient();
    start(new JsonObject().put("service", "stall").put("statsIntervalMs", INTERVAL_MS))
        .compose(v -> client.connect(server.port(), VertxClients.LOOPBACK))
        .compose(stalled -> {
          open.add(stalled);
          Lines lines = Lines.of(stalled);
          return askId(stalled, lines).compose(id -> {
            long start = System.nanoTime();
            return stalled.write(Buffer.buffer("stall\n"))
                .compose(v -> AdminStats.awaitReport(http, server.adminPort(), stats -> AdminStats.stale(stats, id)))
                .compose(v -> {
                  System.out.printf("stall: instance %d reported stale after %d ms (stats interval %d ms)%n", id,
                      (System.nanoTime() - start) / 1_000_000, INTERVAL_MS);
                  // while it stalls, fresh connections (fresh 4-tuples) that reach another instance are served
                  return anotherInstanceAnswers(vertx, client, id, 30);
                })
                .compose(answered -> {
                  test.verify(() -> assertThat(answered).as("another instance answered during the stall").isTrue());
                  return lines.next();
                })
                .compose(line -> {
                  test.verify(() -> assertThat(line).isEqualTo("stalled"));
                  return AdminStats.awaitReport(http, server.adminPort(), stats -> !AdminStats.stale(stats, id));
                })
                .compose(v -> {
                  test.verify(() -> assertThat(log.events).anyMatch(e -> e.getLevel() == Level.WARN
                      && e.getFormattedMessage().contains("instance " + id + " is stale")));
                  // logged at the collector's next tick, which may come just after the report cleared
                  return log.await(vertx.getOrCreateContext(), "instance " + id + " reports again");
                });
          });
        })
        .onComplete(test.succeedingThenComplete());
  }

  @Test
  void aServiceExceptionClosesThatConnectionOnly(Vertx vertx, VertxTestContext test) {
    NetClient client = vertx.createNetClient();
    start(new JsonObject().put("service", "stall").put("instances", 1))
        .compose(v -> Future.all(client.connect(server.port(), VertxClients.LOOPBACK),
            client.connect(server.port(), VertxClients.LOOPBACK)))
        .compose(both -> {
          NetSocket bad = both.resultAt(0);
          NetSocket good = both.resultAt(1);
          open.add(bad);
          open.add(good);
          return expectEcho(test, good, 'a')
              .compose(v -> {
                Future<Buffer> closed = VertxClients.closedByServer(bad);
                return bad.write(Buffer.buffer("boom\n")).compose(x -> closed);
              })
              .compose(before -> {
                test.verify(() -> assertThat(before.length())
                    .as("bytes from the connection whose data made the service throw").isZero());
                return expectEcho(test, good, 'b');
              });
        })
        .compose(v -> client.connect(server.port(), VertxClients.LOOPBACK))
        .compose(next -> expectEcho(test, next, 'c').andThen(x -> next.close()))
        .compose(v -> AdminStats.fresh(vertx.createHttpClient(), server.adminPort()))
        .onComplete(test.succeeding(stats -> test.verify(() -> {
          assertThat(AdminStats.total(stats, "tcp", "errors")).isEqualTo(1);
          test.completeNow();
        })));
  }

  private Future<Void> start(JsonObject overrides) {
    return AsyncServers.start(overrides).map(started -> {
      server = started;
      return null;
    });
  }

  private static Future<Integer> askId(NetSocket socket, Lines lines) {
    return socket.write(Buffer.buffer("id\n")).compose(v -> lines.next()).map(Integer::parseInt);
  }

  /**
   * Fresh connections ask "id" until one is answered by an instance other than {@code stalled}; false after
   * {@code attempts}. Those that land on the stalled instance get no answer within {@value #ANSWER_MS} ms.
   */
  private Future<Boolean> anotherInstanceAnswers(Vertx vertx, NetClient client, int stalled, int attempts) {
    if (attempts == 0) {
      return Future.succeededFuture(false);
    }
    return client.connect(server.port(), VertxClients.LOOPBACK).compose(socket -> {
      Promise<Integer> answer = Promise.promise();
      long deadline = vertx.setTimer(ANSWER_MS, t -> answer.tryFail("no answer: on the stalled instance"));
      askId(socket, Lines.of(socket)).onComplete(answer);
      return answer.future().andThen(done -> {
        vertx.cancelTimer(deadline);
        socket.close();
      });
    }).transform(asked -> asked.succeeded() && asked.result() != stalled
        // the next 4-tuple may hash elsewhere
        ? Future.succeededFuture(true)
        : anotherInstanceAnswers(vertx, client, stalled, attempts - 1));
  }

  private static Future<Void> expectEcho(VertxTestContext test, NetSocket socket, char value) {
    return VertxClients.exchange(socket, Buffer.buffer(new byte[] {(byte) value}), 1).map(reply -> {
      test.verify(() -> assertThat((char) reply.getByte(0)).isEqualTo(value));
      return null;
    });
  }

  /** The collector's log as it is written, and a future for the first line that contains a text. */
  private static final class CollectorLog extends AppenderBase<ILoggingEvent> {
    /** Appended to by the collector's loop while the test reads it. */
    final List<ILoggingEvent> events = new CopyOnWriteArrayList<>();
    private final Map<String, CompletableFuture<ILoggingEvent>> awaited = new ConcurrentHashMap<>();

    @Override
    protected void append(ILoggingEvent event) {
      events.add(event);
      awaited.forEach((text, line) -> {
        if (event.getFormattedMessage().contains(text)) {
          line.complete(event);
        }
      });
    }

    /** Completes on {@code context} once a line containing {@code text} was logged, before this call or after. */
    Future<ILoggingEvent> await(Context context, String text) {
      CompletableFuture<ILoggingEvent> line = awaited.computeIfAbsent(text, t -> new CompletableFuture<>());
      events.stream().filter(e -> e.getFormattedMessage().contains(text)).findFirst().ifPresent(line::complete);
      return Future.fromCompletionStage(line, context);
    }
  }
}
