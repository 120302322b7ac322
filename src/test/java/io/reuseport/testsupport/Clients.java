package io.reuseport.testsupport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Blocking loopback clients for tests; each call is bounded by a socket timeout.
 */
public final class Clients {

  public static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  private static final int TIMEOUT_MS = 5_000;

  private Clients() {
  }

  /** A fresh connection (new source port) to the whoami service: "instance thread". */
  public static String[] whoamiTcp(int port) throws IOException {
    try (Socket s = connect(port)) {
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      String line = in.readLine();
      if (line == null) {
        throw new IOException("connection closed before whoami line");
      }
      return line.split(" ", 2);
    }
  }

  /** One datagram from {@code socket} to the whoami service: "instance thread". */
  public static String[] whoamiUdp(DatagramSocket socket, int port) throws IOException {
    byte[] out = "?".getBytes(StandardCharsets.UTF_8);
    socket.send(new DatagramPacket(out, out.length, new InetSocketAddress(LOOPBACK, port)));
    DatagramPacket in = new DatagramPacket(new byte[512], 512);
    socket.receive(in);
    return new String(in.getData(), 0, in.getLength(), StandardCharsets.UTF_8).split(" ", 2);
  }

  public static Socket connect(int port) throws IOException {
    Socket s = new Socket();
    s.connect(new InetSocketAddress(LOOPBACK, port), TIMEOUT_MS);
    s.setSoTimeout(TIMEOUT_MS);
    return s;
  }

  public static DatagramSocket udp() throws IOException {
    DatagramSocket s = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0));
    s.setSoTimeout(TIMEOUT_MS);
    return s;
  }

  /**
   * A connection that the kernel put on instance {@code id} of a server running the steering tests' stall service
   * (it answers "id" with its instance id); connections that landed elsewhere are closed.
   */
  public static Socket connectionToInstance(int port, int id) throws IOException {
    for (int attempt = 0; attempt < 200; attempt++) {
      Socket s = connect(port);
      if (instanceOf(s) == id) {
        return s;
      }
      s.close();
    }
    throw new IllegalStateException("no connection reached instance " + id);
  }

  /**
   * Whether fresh connections reach instance {@code id} of a server running the stall service (it answers "id" with
   * its instance id) within 20 s: connect, ask, close, until one lands there. What the steering tests check when an
   * instance should get new traffic again.
   */
  public static boolean reachesInstance(int port, int id) throws IOException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      try (Socket s = connect(port)) {
        if (instanceOf(s) == id) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Asks the stall service which instance serves {@code connection} ("id"); -1 when the connection closed
   * instead. Bounded by the socket's timeout.
   */
  public static int instanceOf(Socket connection) throws IOException {
    connection.getOutputStream().write("id\n".getBytes(StandardCharsets.US_ASCII));
    String line = new BufferedReader(new InputStreamReader(connection.getInputStream(), StandardCharsets.US_ASCII))
        .readLine();
    return line == null ? -1 : Integer.parseInt(line.trim());
  }

  /** Asks the stall service which instance serves the flow of {@code socket} (a datagram "id"). */
  public static int instanceOf(DatagramSocket socket, int port) throws IOException {
    byte[] id = "id".getBytes(StandardCharsets.US_ASCII);
    socket.send(new DatagramPacket(id, id.length, new InetSocketAddress(LOOPBACK, port)));
    DatagramPacket in = new DatagramPacket(new byte[64], 64);
    socket.receive(in);
    return Integer.parseInt(new String(in.getData(), 0, in.getLength(), StandardCharsets.US_ASCII).trim());
  }
}
