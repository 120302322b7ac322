package io.reuseport.reliability;

import io.reuseport.app.RunningServer;
import io.reuseport.testsupport.AsyncServers;
import io.reuseport.testsupport.VertxClients;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.ext.web.client.WebClient;
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
 * Bad input to an HTTP service ({@code hello-http}, the real server on loopback), each case over raw sockets
 * (Vert.x {@code NetClient}, HTTP/2 frames built by hand), and after each the server still answers another client:
 * an over-long request line gets 414 and an over-large header block 431 (both limits settings, each checked on both
 * sides of the limit), malformed input 400, a client that trickles its headers (slowloris) is closed after
 * {@code headerTimeoutSeconds} (and the same trickle is served when the timeout is long enough), and an HTTP/2
 * rapid-reset flood (CVE-2023-44487) is cut off with {@code GOAWAY} by Vert.x's reset-flood limit (and the same
 * client below the limit is not).
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class HttpBadInputTest {

  private final List<RunningServer> servers = new ArrayList<>();
  private WebClient web;
  private NetClient net;

  @AfterEach
  void stop(VertxTestContext test) {
    if (web != null) {
      web.close();
    }
    Future<Void> closed = net == null ? Future.succeededFuture() : net.close();
    for (RunningServer s : servers) {
      closed = closed.transform(x -> s.stop());
    }
    closed.onComplete(test.succeedingThenComplete());
  }

  @Test
  void overLongLinesAndHeadersAndMalformedRequestsGetTheirStatusAndOthersAreServed(Vertx vertx,
                                                                                 VertxTestContext test) {
    web = WebClient.create(vertx);
    String uri = "/" + "a".repeat(4200);
    String header = "X-Big: " + "b".repeat(8300) + "\r\n";
    String smallUri = "/" + "a".repeat(1500);
    String smallHeader = "X-Big: " + "b".repeat(3000) + "\r\n";
    start(new JsonObject())
        .compose(port -> Future.all(List.of(
            status(vertx, port, "GET " + uri + " HTTP/1.1\r\nHost: a\r\n\r\n"),
            status(vertx, port, "GET /plaintext HTTP/1.1\r\nHost: a\r\n" + header + "\r\n"),
            status(vertx, port, "\u0001\u0002 what is this\r\n\r\n"),
            status(vertx, port, "GET /plaintext HTTP/1.1\r\nHost: a\r\nno colon here\r\n\r\n"),
            // within the default limits: served
            status(vertx, port, "GET " + smallUri + " HTTP/1.1\r\nHost: a\r\n\r\n"),
            status(vertx, port, "GET /plaintext HTTP/1.1\r\nHost: a\r\n" + smallHeader + "\r\n"),
            plaintext(port)))
            .map(all -> all.<Integer>list()))
        .compose(defaults -> start(new JsonObject().put("maxRequestLineBytes", 1024).put("maxHeaderBytes", 2048))
            .compose(port -> Future.all(List.of(
                status(vertx, port, "GET " + smallUri + " HTTP/1.1\r\nHost: a\r\n\r\n"),
                status(vertx, port, "GET /plaintext HTTP/1.1\r\nHost: a\r\n" + smallHeader + "\r\n"),
                plaintext(port))))
            .map(lowered -> {
              test.verify(() -> {
                assertThat(defaults).as("414, 431, 400, 400, then within the limits 404 and 200, then another"
                    + " client").containsExactly(414, 431, 400, 400, 404, 200, 200);
                assertThat(lowered.<Integer>list()).as("the same two requests with the limits lowered, then"
                    + " another client").containsExactly(414, 431, 200);
              });
              return null;
            }))
        .onComplete(test.succeedingThenComplete());
  }

  @Test
  void aClientThatTricklesItsHeadersIsClosedAfterTheHeaderTimeout(Vertx vertx, VertxTestContext test) {
    web = WebClient.create(vertx);
    net = vertx.createNetClient();
    int lines = 12;
    long everyMs = 250;
    // 12 header lines 250 ms apart: 3 s of trickle, past a 1 s header timeout and well within a 60 s one
    start(new JsonObject().put("headerTimeoutSeconds", 1))
        .compose(port -> trickle(vertx, port, lines, everyMs)
            .compose(cut -> plaintext(port).map(other -> List.of(cut.toString(), other.toString()))))
        .compose(cutOff -> start(new JsonObject().put("headerTimeoutSeconds", 60))
            .compose(port -> trickle(vertx, port, lines, everyMs))
            .map(control -> {
              System.out.println("figure: trickle with headerTimeoutSeconds 1: " + cutOff.get(0));
              test.verify(() -> {
                assertThat(cutOff.get(0)).as("what the trickling client got with headerTimeoutSeconds 1")
                    .startsWith("closed after line ");
                assertThat(Integer.parseInt(cutOff.get(0).replaceAll("\\D+", ""))).isLessThan(lines);
                assertThat(cutOff.get(1)).as("another client meanwhile").isEqualTo("200");
                assertThat(control).as("the same trickle with headerTimeoutSeconds 60").startsWith("HTTP/1.1 200");
              });
              return null;
            }))
        .onComplete(test.succeedingThenComplete());
  }

  @Test
  void anHttp2RapidResetFloodIsCutOffWithGoawayAndOthersAreServed(Vertx vertx, VertxTestContext test) {
    web = WebClient.create(vertx);
    net = vertx.createNetClient();
    // Vert.x's default limit is 200 RST_STREAM frames per 30 s window
    start(new JsonObject())
        .compose(port -> rapidReset(port, 1000)
            .compose(flood -> rapidReset(port, 50).map(below -> List.of(flood, below)))
            .compose(both -> plaintext(port).map(other -> {
              test.verify(() -> {
                H2Outcome flood = both.get(0);
                H2Outcome below = both.get(1);
                assertThat(flood.goAwayError).as("GOAWAY error code after 1,000 HEADERS + RST_STREAM pairs (11 ="
                    + " ENHANCE_YOUR_CALM)").isEqualTo(11);
                assertThat(flood.closed).as("the flooding connection closed").isTrue();
                assertThat(below.goAwayError).as("GOAWAY after 50 pairs (none: -1)").isEqualTo(-1);
                assertThat(below.closed).as("the connection below the limit still open").isFalse();
                assertThat(other).as("another client").isEqualTo(200);
              });
              return null;
            })))
        .onComplete(test.succeedingThenComplete());
  }

  private Future<Integer> start(JsonObject overrides) {
    return AsyncServers.start(new JsonObject().put("service", "hello-http").mergeIn(overrides)).map(s -> {
      servers.add(s);
      return s.port();
    });
  }

  private Future<Integer> plaintext(int port) {
    return web.get(port, VertxClients.LOOPBACK, "/plaintext").send().map(r -> r.statusCode());
  }

  /** The status code of the server's answer to raw {@code request} on a fresh connection (-1 if none). */
  private static Future<Integer> status(Vertx vertx, int port, String request) {
    return VertxClients.head(vertx, port, Buffer.buffer(request, "ISO-8859-1"), 12).map(head -> {
      String text = head.toString(StandardCharsets.ISO_8859_1);
      return text.startsWith("HTTP/1.") && text.length() >= 12 ? Integer.parseInt(text.substring(9, 12)) : -1;
    });
  }

  /**
   * Sends a request's head one header line every {@code everyMs}, {@code lines} lines, then its end; completes
   * with {@code "closed after line N"} if the server closed the connection first, else with the answer's start.
   */
  private Future<String> trickle(Vertx vertx, int port, int lines, long everyMs) {
    return net.connect(port, VertxClients.LOOPBACK).compose(socket -> {
      Promise<String> outcome = Promise.promise();
      Buffer received = Buffer.buffer();
      int[] sent = {0};
      socket.handler(data -> {
        received.appendBuffer(data);
        if (received.length() >= 12) {
          outcome.tryComplete(received.toString(StandardCharsets.ISO_8859_1));
        }
      });
      socket.closeHandler(v -> outcome.tryComplete("closed after line " + sent[0]));
      socket.write("GET /plaintext HTTP/1.1\r\nHost: a\r\n");
      long timer = vertx.setPeriodic(everyMs, id -> {
        if (sent[0] < lines) {
          sent[0]++;
          socket.write("X-Line-" + sent[0] + ": slow\r\n");
        } else {
          vertx.cancelTimer(id);
          socket.write("\r\n");
        }
      });
      return outcome.future().andThen(done -> {
        vertx.cancelTimer(timer);
        socket.close();
      });
    });
  }

  /** What a raw HTTP/2 client saw: the error code of a GOAWAY (-1: none) and whether the server closed. */
  private record H2Outcome(int goAwayError, boolean closed) {
  }

  /**
   * Opens an h2c connection (prior knowledge), sends {@code pairs} HEADERS frames each followed at once by a
   * RST_STREAM (CANCEL) for the same stream, then a PING; completes once the server closed the connection or
   * answered the PING (it answers in order, so by then it has handled every frame before it).
   */
  private Future<H2Outcome> rapidReset(int port, int pairs) {
    return net.connect(port, VertxClients.LOOPBACK).compose(socket -> {
      Promise<H2Outcome> outcome = Promise.promise();
      Frames frames = new Frames();
      socket.handler(data -> {
        frames.add(data);
        if (frames.pingAck) {
          outcome.tryComplete(new H2Outcome(frames.goAwayError, false));
        }
      });
      socket.closeHandler(v -> outcome.tryComplete(new H2Outcome(frames.goAwayError, true)));
      Buffer out = Buffer.buffer("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
      frame(out, 4, 0, 0, Buffer.buffer());
      Buffer block = Buffer.buffer()
          .appendByte((byte) 0x82) // :method GET
          .appendByte((byte) 0x86) // :scheme http
          .appendByte((byte) 0x84) // :path /
          .appendByte((byte) 0x01).appendByte((byte) 9).appendString("127.0.0.1"); // :authority, not indexed
      for (int i = 0; i < pairs; i++) {
        int stream = 2 * i + 1;
        frame(out, 1, 0x05, stream, block); // HEADERS, END_STREAM | END_HEADERS
        frame(out, 3, 0, stream, Buffer.buffer().appendInt(8)); // RST_STREAM, CANCEL
      }
      frame(out, 6, 0, 0, Buffer.buffer().appendLong(42)); // PING
      socket.write(out);
      return outcome.future().andThen(done -> socket.close());
    });
  }

  private static void frame(Buffer out, int type, int flags, int stream, Buffer payload) {
    out.appendMedium(payload.length()).appendByte((byte) type).appendByte((byte) flags).appendInt(stream)
        .appendBuffer(payload);
  }

  /** Reads the server's HTTP/2 frames as they come: notes a GOAWAY's error code and a PING acknowledgement. */
  private static final class Frames {

    private Buffer pending = Buffer.buffer();
    private int goAwayError = -1;
    private boolean pingAck;

    void add(Buffer data) {
      pending.appendBuffer(data);
      int at = 0;
      while (pending.length() - at >= 9) {
        int length = pending.getUnsignedMedium(at);
        if (pending.length() - at < 9 + length) {
          break;
        }
        int type = pending.getUnsignedByte(at + 3);
        int flags = pending.getUnsignedByte(at + 4);
        if (type == 7 && length >= 8) {
          goAwayError = pending.getInt(at + 9 + 4);
        } else if (type == 6 && (flags & 1) != 0) {
          pingAck = true;
        }
        at += 9 + length;
      }
      pending = pending.getBuffer(at, pending.length());
    }
  }
}
