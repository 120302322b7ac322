package io.reuseport.load;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;

import java.io.IOException;

/**
 * A TCP worker. In {@code tcp-churn} every request is a new connection (connect, send the payload, read the echo,
 * close), so every request has a new source port; in {@code tcp-echo} the connection stays open and carries the
 * next payload, and is opened anew only after a failure. Latency is measured from the request's start, so in churn
 * it includes the connect.
 */
final class TcpLoad extends LoadWorker {

  private static final IOException CLOSED_BY_PEER = new IOException("connection closed by the server");

  private final NetClient client;
  private final Target target;
  private final Buffer payload;
  private final boolean keepAlive;
  private NetSocket socket;
  private int received;

  TcpLoad(Vertx vertx, NetClient client, LoadRecorder recorder, RequestBudget budget, LoadOptions options,
          Buffer payload) {
    super(vertx, recorder, budget, options);
    this.client = client;
    this.target = options.target();
    this.payload = payload;
    this.keepAlive = options.mode() == LoadMode.TCP_ECHO;
  }

  @Override
  protected void send(long gen) {
    if (socket != null) {
      write(socket);
      return;
    }
    client.connect(target.port(), target.host()).onComplete(connected -> {
      if (!awaiting(gen)) {
        if (connected.succeeded()) {
          connected.result().close();
        }
        return;
      }
      if (connected.failed()) {
        failed(gen, connected.cause());
        return;
      }
      NetSocket so = connected.result();
      socket = so;
      so.handler(data -> onData(so, data));
      so.exceptionHandler(err -> {
        if (so == socket) {
          failed(generation(), err);
        }
      });
      so.closeHandler(v -> onClosed(so));
      write(so);
    });
  }

  private void write(NetSocket so) {
    received = 0;
    so.write(payload);
  }

  private void onData(NetSocket so, Buffer data) {
    if (so != socket) {
      return;
    }
    received += data.length();
    if (received >= payload.length()) {
      succeeded(generation());
    }
  }

  private void onClosed(NetSocket so) {
    if (so == socket) {
      socket = null;
      failed(generation(), CLOSED_BY_PEER);
    }
  }

  @Override
  protected Future<Void> afterRequest(boolean ok) {
    if ((ok && keepAlive) || socket == null) {
      return Future.succeededFuture();
    }
    return close();
  }

  @Override
  protected Future<Void> close() {
    NetSocket so = socket;
    socket = null;
    return so == null ? Future.succeededFuture() : so.close();
  }
}
