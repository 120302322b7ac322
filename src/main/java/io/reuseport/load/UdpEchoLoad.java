package io.reuseport.load;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.datagram.DatagramPacket;
import io.vertx.core.datagram.DatagramSocket;
import io.vertx.core.datagram.DatagramSocketOptions;

import java.util.Arrays;

/**
 * A UDP flow: its own socket (so its own source port and 4-tuple), one datagram in flight. A datagram whose echo
 * does not come back within the timeout counts as a timeout (lost), and the next one is sent. Payloads of 8 bytes
 * or more carry the request's generation, so a late echo is told apart from the answer to the current datagram.
 */
final class UdpEchoLoad extends LoadWorker {

  private static final int SEQUENCE_BYTES = Long.BYTES;

  private final Target target;
  private final int payloadLength;
  private final byte[] filler;
  private DatagramSocket socket;

  UdpEchoLoad(Vertx vertx, LoadRecorder recorder, RequestBudget budget, LoadOptions options) {
    super(vertx, recorder, budget, options);
    this.target = options.target();
    this.payloadLength = options.payload();
    this.filler = new byte[payloadLength];
    Arrays.fill(filler, (byte) 'x');
  }

  @Override
  protected Future<Void> open() {
    socket = vertx.createDatagramSocket(new DatagramSocketOptions().setIpV6(target.ipv6()));
    socket.handler(this::onPacket);
    return socket.listen(0, target.ipv6() ? "::" : "0.0.0.0").mapEmpty();
  }

  @Override
  protected void send(long gen) {
    Buffer datagram = Buffer.buffer(payloadLength);
    if (payloadLength >= SEQUENCE_BYTES) {
      datagram.appendLong(gen);
    }
    datagram.appendBytes(filler, 0, payloadLength - datagram.length());
    socket.send(datagram, target.port(), target.host()).onFailure(err -> failed(gen, err));
  }

  private void onPacket(DatagramPacket packet) {
    Buffer data = packet.data();
    long gen = payloadLength >= SEQUENCE_BYTES && data.length() >= SEQUENCE_BYTES ? data.getLong(0) : generation();
    if (awaiting(gen)) {
      succeeded(gen);
    } else {
      late();
    }
  }

  @Override
  protected Future<Void> afterRequest(boolean ok) {
    return Future.succeededFuture();
  }

  @Override
  protected Future<Void> close() {
    DatagramSocket so = socket;
    socket = null;
    return so == null ? Future.succeededFuture() : so.close();
  }
}
