package io.reuseport.reliability;

import io.reuseport.testsupport.Clients;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;

/** One-shot echo checks against a server on loopback, for the process tests. */
final class Echo {

  private Echo() {
  }

  /** A fresh connection echoes one byte. */
  static boolean tcp(int port) {
    try (Socket s = Clients.connect(port)) {
      s.getOutputStream().write(42);
      return s.getInputStream().read() == 42;
    } catch (IOException e) {
      return false;
    }
  }

  /** How many of {@code count} datagrams, each from a fresh socket (a new flow), were echoed. */
  static int udp(int port, int count) throws IOException {
    int answered = 0;
    for (int i = 0; i < count; i++) {
      try (DatagramSocket socket = Clients.udp()) {
        socket.setSoTimeout(1_000);
        socket.send(new DatagramPacket(new byte[] {(byte) i}, 1, new InetSocketAddress(Clients.LOOPBACK, port)));
        DatagramPacket in = new DatagramPacket(new byte[16], 16);
        socket.receive(in);
        if (in.getLength() == 1 && in.getData()[0] == (byte) i) {
          answered++;
        }
      } catch (SocketTimeoutException e) {
        // not answered
      }
    }
    return answered;
  }
}
