package io.reuseport.reliability;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Churn load on an echo server on loopback: threads that each connect, send 16 bytes, read them back and close,
 * over and over, and threads that each send a numbered datagram and wait for its echo. Counts attempts and
 * failures; stops when told to. A client thread that stops before that (a UDP socket error, anything thrown) would
 * make its losses look like none: {@link #close} then fails, naming it and why. Blocking sockets on plain threads:
 * this is the client, not the server.
 */
final class Churn implements AutoCloseable {

  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  private static final int PAYLOAD = 16;
  /**
   * A failure is a reset, an early EOF, or no answer for this long: long enough that a freshly started JVM on a
   * loaded machine (its first connections load and interpret the code that serves them) is not counted as a loss.
   */
  private static final int TIMEOUT_MS = 10_000;
  /** Long enough that a loaded machine's delay is not counted as a loss. */
  private static final int UDP_TIMEOUT_MS = 10_000;

  final LongAdder tcpAttempts = new LongAdder();
  final LongAdder tcpFailed = new LongAdder();
  final LongAdder udpSent = new LongAdder();
  final LongAdder udpLost = new LongAdder();
  /** Failure reasons and how often each happened. */
  final Map<String, AtomicLong> reasons = new ConcurrentHashMap<>();
  /** Client threads that stopped before {@link #close}, and why. */
  private final Map<String, String> stopped = new ConcurrentHashMap<>();
  private final int port;
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean running = true;

  Churn(int port, int tcpThreads, int udpThreads) {
    this.port = port;
    for (int i = 0; i < tcpThreads; i++) {
      threads.add(client("churn-tcp-" + i, this::tcpLoop));
    }
    for (int i = 0; i < udpThreads; i++) {
      threads.add(client("churn-udp-" + i, this::udpLoop));
    }
    threads.forEach(Thread::start);
  }

  private Thread client(String name, Runnable loop) {
    return new Thread(() -> {
      try {
        loop.run();
      } catch (RuntimeException | Error e) {
        stopped.put(name, e.toString());
      }
    }, name);
  }

  private void tcpLoop() {
    byte[] out = new byte[PAYLOAD];
    byte[] in = new byte[PAYLOAD];
    while (running) {
      tcpAttempts.increment();
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(LOOPBACK, port), TIMEOUT_MS);
        s.setSoTimeout(TIMEOUT_MS);
        s.getOutputStream().write(out);
        InputStream stream = s.getInputStream();
        int got = 0;
        while (got < PAYLOAD) {
          int n = stream.read(in, got, PAYLOAD - got);
          if (n < 0) {
            throw new IOException("EOF after " + got + " bytes");
          }
          got += n;
        }
      } catch (IOException e) {
        tcpFailed.increment();
        reasons.computeIfAbsent("tcp: " + e.getClass().getSimpleName() + ": " + e.getMessage(),
            k -> new AtomicLong()).incrementAndGet();
      }
    }
  }

  private void udpLoop() {
    try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0))) {
      socket.setSoTimeout(UDP_TIMEOUT_MS);
      InetSocketAddress target = new InetSocketAddress(LOOPBACK, port);
      byte[] in = new byte[64];
      long seq = 0;
      while (running) {
        seq++;
        byte[] out = ByteBuffer.allocate(8).putLong(seq).array();
        socket.send(new DatagramPacket(out, out.length, target));
        udpSent.increment();
        if (!awaitEcho(socket, in, seq)) {
          udpLost.increment();
        }
      }
    } catch (IOException e) {
      reasons.computeIfAbsent("udp socket: " + e, k -> new AtomicLong()).incrementAndGet();
      stopped.put(Thread.currentThread().getName(), e.toString());
    }
  }

  /** Reads until the echo of {@code seq} comes, skipping late echoes of earlier ones; false on timeout. */
  private static boolean awaitEcho(DatagramSocket socket, byte[] buf, long seq) throws IOException {
    while (true) {
      DatagramPacket packet = new DatagramPacket(buf, buf.length);
      try {
        socket.receive(packet);
      } catch (SocketTimeoutException e) {
        return false;
      }
      if (packet.getLength() == 8 && ByteBuffer.wrap(buf, 0, 8).getLong() == seq) {
        return true;
      }
    }
  }

  JsonObject counts() {
    JsonObject why = new JsonObject();
    reasons.forEach((k, v) -> why.put(k, v.get()));
    return new JsonObject()
        .put("tcpAttempts", tcpAttempts.sum())
        .put("tcpFailed", tcpFailed.sum())
        .put("udpSent", udpSent.sum())
        .put("udpLost", udpLost.sum())
        .put("reasons", why)
        .put("clientsStopped", new JsonObject(new TreeMap<String, Object>(stopped)));
  }

  /**
   * Stops the clients and waits for them (a connect and a read may each take {@value #TIMEOUT_MS} ms).
   *
   * @throws IllegalStateException when a client stopped early or does not stop: its losses were not counted
   */
  @Override
  public void close() throws InterruptedException {
    running = false;
    for (Thread t : threads) {
      t.join(2L * TIMEOUT_MS + 5_000);
      if (t.isAlive()) {
        stopped.putIfAbsent(t.getName(), "still running " + (2 * TIMEOUT_MS + 5_000) + " ms after close");
      }
    }
    if (!stopped.isEmpty()) {
      throw new IllegalStateException("churn clients stopped before the end, their losses uncounted: " + stopped
          + "; counts " + counts().encode());
    }
  }
}
