package io.reuseport.reliability;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A liveness probe that never stops: one thread asks {@code GET /health/live} on a fresh connection every 20 ms, as
 * a Kubernetes probe or a Prometheus scrape would, and counts requests without an HTTP answer (any status is an
 * answer). Blocking sockets on a plain thread: this is the client, not the server.
 */
final class AdminProbe implements AutoCloseable {

  /** As {@link Churn}'s: a cold JVM on a loaded machine may take seconds over its first requests. */
  private static final int TIMEOUT_MS = 10_000;
  private static final long PAUSE_MS = 20;

  final LongAdder attempts = new LongAdder();
  final LongAdder failed = new LongAdder();
  final Map<String, AtomicLong> reasons = new ConcurrentHashMap<>();
  private final int port;
  private final Thread thread;
  private volatile boolean running = true;

  AdminProbe(int port) {
    this.port = port;
    thread = new Thread(this::loop, "admin-probe");
    thread.start();
  }

  private void loop() {
    byte[] request = "GET /health/live HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n"
        .getBytes(StandardCharsets.US_ASCII);
    while (running) {
      attempts.increment();
      long started = System.currentTimeMillis();
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), TIMEOUT_MS);
        s.setSoTimeout(TIMEOUT_MS);
        s.getOutputStream().write(request);
        String status = statusLine(s.getInputStream());
        if (!status.startsWith("HTTP/1.1 ")) {
          throw new IOException("not an HTTP answer: " + status);
        }
      } catch (IOException e) {
        failed.increment();
        reasons.computeIfAbsent(e.toString(), k -> new AtomicLong()).incrementAndGet();
        System.out.println("probe failed: started at " + java.time.Instant.ofEpochMilli(started) + ": " + e);
      }
      try {
        // the probe's pace: a fresh connection every PAUSE_MS
        Thread.sleep(PAUSE_MS);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private static String statusLine(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0 && c != '\n') {
      line.append((char) c);
    }
    return line.toString();
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    thread.join(10_000);
  }

  @Override
  public String toString() {
    return "probes " + attempts.sum() + ", unanswered " + failed.sum() + " " + reasons;
  }
}
