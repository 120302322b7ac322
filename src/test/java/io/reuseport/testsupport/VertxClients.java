package io.reuseport.testsupport;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.datagram.DatagramSocket;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.core.parsetools.RecordParser;

import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Vert.x clients on loopback for vertx-junit5 tests: each call returns a future; the test's timeout bounds it. A
 * helper that opens a connection creates its client, keeps it referenced until the exchange ends and then closes it:
 * Vert.x 5 closes a client nothing refers to any more when the GC runs, with its connections.
 */
public final class VertxClients {

  public static final String LOOPBACK = "127.0.0.1";
  /** How long a whoami connection may wait for its line: far beyond what a working server needs. */
  private static final long WHOAMI_DEADLINE_MS = 10_000;

  private VertxClients() {
  }

  /** An HTTP answer: status and body. */
  public record Answer(int status, String body) {
  }

  /** A fresh connection (new source port) to the whoami service: {@code [instance, thread]}. */
  public static Future<String[]> whoamiTcp(Vertx vertx, int port) {
    NetClient client = vertx.createNetClient();
    return client.connect(port, LOOPBACK).compose(socket -> {
      Promise<String[]> line = Promise.promise();
      Buffer received = Buffer.buffer();
      socket.handler(data -> {
        received.appendBuffer(data);
        String text = received.toString();
        if (text.indexOf('\n') >= 0) {
          line.tryComplete(text.substring(0, text.indexOf('\n')).split(" ", 2));
        }
      });
      socket.closeHandler(v -> line.tryFail("connection closed before the whoami line"));
      // a deadline, so that a connection nobody answers fails the test with a message instead of hanging it
      long deadline = vertx.setTimer(WHOAMI_DEADLINE_MS, t -> line.tryFail("no whoami line within "
          + WHOAMI_DEADLINE_MS + " ms on " + socket.localAddress() + " -> " + socket.remoteAddress()));
      return line.future().andThen(done -> {
        vertx.cancelTimer(deadline);
        socket.close();
      });
    }).eventually(client::close);
  }

  /** Writes {@code request} and completes with the first {@code expected} bytes that come back. */
  public static Future<Buffer> exchange(NetSocket socket, Buffer request, int expected) {
    Promise<Buffer> reply = Promise.promise();
    Buffer received = Buffer.buffer();
    socket.handler(data -> {
      received.appendBuffer(data);
      if (received.length() >= expected) {
        reply.tryComplete(received.slice(0, expected));
      }
    });
    socket.closeHandler(v -> reply.tryFail("closed after " + received.length() + " of " + expected + " bytes"));
    return socket.write(request).compose(v -> reply.future());
  }

  /** Completes when the server closes {@code socket}, with the bytes it sent first. */
  public static Future<Buffer> closedByServer(NetSocket socket) {
    Promise<Buffer> closed = Promise.promise();
    Buffer received = Buffer.buffer();
    socket.handler(received::appendBuffer);
    socket.closeHandler(v -> closed.tryComplete(received));
    return closed.future();
  }

  /**
   * Connects, writes {@code request} as raw bytes and completes with the first {@code count} bytes of the answer,
   * or with all that came before the server closed; then closes. A write the server cut short is no failure: it may
   * answer and close before reading everything, and the answer is still there to read.
   */
  public static Future<Buffer> head(Vertx vertx, int port, Buffer request, int count) {
    NetClient client = vertx.createNetClient();
    return client.connect(port, LOOPBACK).compose(socket -> {
      Promise<Buffer> head = Promise.promise();
      Buffer received = Buffer.buffer();
      socket.handler(data -> {
        received.appendBuffer(data);
        if (received.length() >= count) {
          head.tryComplete(received.slice(0, count));
        }
      });
      socket.closeHandler(v -> head.tryComplete(received));
      socket.write(request);
      return head.future().andThen(done -> socket.close());
    }).eventually(client::close);
  }

  /** {@code GET} on the admin server. */
  public static Future<Answer> get(HttpClient http, int port, String path) {
    return http.request(HttpMethod.GET, port, LOOPBACK, path)
        .compose(request -> request.send())
        .compose(response -> response.body().map(body -> new Answer(response.statusCode(), body.toString())));
  }

  /**
   * A UDP client whose replies are matched to requests in order: one request in flight at a time per client.
   */
  public static final class Udp {
    private final DatagramSocket socket;
    private final Queue<Promise<Buffer>> waiting = new ConcurrentLinkedQueue<>();

    private Udp(DatagramSocket socket) {
      this.socket = socket;
      socket.handler(packet -> {
        Promise<Buffer> next = waiting.poll();
        if (next != null) {
          next.tryComplete(packet.data());
        }
      });
    }

    /** A socket on a fresh ephemeral loopback port; it reads datagrams of any size whole. */
    public static Future<Udp> open(Vertx vertx) {
      // Vert.x sizes its read buffer from SO_RCVBUF: 64 KiB holds the largest datagram
      DatagramSocket socket = vertx.createDatagramSocket(new DatagramSocketOptions().setReceiveBufferSize(65_536));
      return socket.listen(0, LOOPBACK).map(Udp::new);
    }

    /** Sends {@code payload} to {@code port} and completes with the reply. */
    public Future<Buffer> request(int port, Buffer payload) {
      Promise<Buffer> reply = Promise.promise();
      waiting.add(reply);
      return socket.send(payload, port, LOOPBACK).compose(v -> reply.future());
    }

    /** The whoami reply: {@code [instance, thread]}. */
    public Future<String[]> whoami(int port) {
      return request(port, Buffer.buffer("?")).map(reply -> reply.toString().split(" ", 2));
    }

    public Future<Void> close() {
      return socket.close();
    }
  }

  /** The lines a socket receives, handed out in order; attach before writing what they answer. */
  public static final class Lines {
    private final Queue<String> arrived = new ArrayDeque<>();
    private final Queue<Promise<String>> waiting = new ArrayDeque<>();
    private boolean closed;

    private Lines() {
    }

    public static Lines of(NetSocket socket) {
      Lines lines = new Lines();
      socket.handler(RecordParser.newDelimited("\n", line -> lines.arrived(line.toString())));
      socket.closeHandler(v -> lines.closed());
      return lines;
    }

    /** The next line, without its newline; fails if the connection closes first. */
    public synchronized Future<String> next() {
      if (!arrived.isEmpty()) {
        return Future.succeededFuture(arrived.poll());
      }
      if (closed) {
        return Future.failedFuture("connection closed before the line");
      }
      Promise<String> line = Promise.promise();
      waiting.add(line);
      return line.future();
    }

    private synchronized void arrived(String line) {
      Promise<String> next = waiting.poll();
      if (next == null) {
        arrived.add(line);
      } else {
        next.complete(line);
      }
    }

    private synchronized void closed() {
      closed = true;
      waiting.forEach(p -> p.tryFail("connection closed before the line"));
      waiting.clear();
    }
  }
}
