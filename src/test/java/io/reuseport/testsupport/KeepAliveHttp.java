package io.reuseport.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * One HTTP/1.1 connection kept open across requests: it still works when the server can open no new descriptor.
 * Blocking, for tests of separate processes.
 */
public final class KeepAliveHttp implements AutoCloseable {

  private final Socket socket;

  public KeepAliveHttp(int port) throws IOException {
    socket = new Socket(Clients.LOOPBACK, port);
    socket.setSoTimeout(30_000);
  }

  /** GET {@code path}; returns the status code and the body, as "200 {...}". */
  public String get(String path) throws IOException {
    socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n")
        .getBytes(StandardCharsets.ISO_8859_1));
    InputStream in = socket.getInputStream();
    String status = readLine(in);
    int length = -1;
    boolean chunked = false;
    for (String header = readLine(in); !header.isEmpty(); header = readLine(in)) {
      String lower = header.toLowerCase(Locale.ROOT);
      if (lower.startsWith("content-length:")) {
        length = Integer.parseInt(lower.substring("content-length:".length()).trim());
      } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
        chunked = true;
      }
    }
    String body = chunked ? readChunked(in) : new String(in.readNBytes(Math.max(0, length)),
        StandardCharsets.UTF_8);
    return status.split(" ")[1] + " " + body;
  }

  private static String readChunked(InputStream in) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      int size = Integer.parseInt(readLine(in).split(";")[0].trim(), 16);
      if (size == 0) {
        readLine(in);
        return body.toString(StandardCharsets.UTF_8);
      }
      body.write(in.readNBytes(size));
      readLine(in);
    }
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    for (int c = in.read(); c != '\n'; c = in.read()) {
      if (c < 0) {
        throw new IOException("connection closed by the server");
      }
      if (c != '\r') {
        line.append((char) c);
      }
    }
    return line.toString();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
