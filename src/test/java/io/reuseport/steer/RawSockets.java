package io.reuseport.steer;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Raw {@code SO_REUSEPORT} sockets on 127.0.0.1 through libc, for the selector's tests: nothing but the kernel and the
 * selector acts on them (no event loop accepts behind the test's back). Also the checks those tests skip on.
 */
final class RawSockets {

  private static final int AF_INET = 2;
  private static final int SOCK_STREAM = 1;
  private static final int SOCK_DGRAM = 2;
  private static final int SOCK_NONBLOCK = 04000;
  private static final int SOL_SOCKET = 1;
  private static final int SO_REUSEPORT = 15;

  interface LibC extends Library {
    int socket(int domain, int type, int protocol) throws LastErrorException;

    int setsockopt(int fd, int level, int option, Pointer value, int length) throws LastErrorException;

    int bind(int fd, Pointer address, int length) throws LastErrorException;

    int listen(int fd, int backlog) throws LastErrorException;

    int getsockname(int fd, Pointer address, IntByReference length) throws LastErrorException;

    int accept(int fd, Pointer address, Pointer length);

    int close(int fd) throws LastErrorException;
  }

  private static final LibC LIBC = Native.load("c", LibC.class);

  private RawSockets() {
  }

  static boolean isRoot() throws IOException {
    return Files.readString(Path.of("/proc/self/status")).contains("\nUid:\t0\t");
  }

  static boolean kernelMigratesWithoutSelector() throws IOException {
    return !Files.readString(Path.of("/proc/sys/net/ipv4/tcp_migrate_req")).trim().equals("0");
  }

  /** A non-blocking TCP listener of the port's group ({@code port} 0: a new port). */
  static int listener(int port, int backlog) {
    int fd = reusePortSocket(SOCK_STREAM, port);
    LIBC.listen(fd, backlog);
    return fd;
  }

  /** A UDP socket of the port's group. */
  static int udpSocket(int port) {
    return reusePortSocket(SOCK_DGRAM, port);
  }

  private static int reusePortSocket(int type, int port) {
    int fd = LIBC.socket(AF_INET, type | SOCK_NONBLOCK, 0);
    Memory one = new Memory(4);
    one.setInt(0, 1);
    LIBC.setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, one, 4);
    Memory address = new Memory(16);
    address.clear();
    address.setShort(0, (short) AF_INET);
    address.setByte(2, (byte) (port >> 8));
    address.setByte(3, (byte) port);
    address.write(4, InetAddress.getLoopbackAddress().getAddress(), 0, 4);
    LIBC.bind(fd, address, 16);
    return fd;
  }

  static int portOf(int fd) {
    Memory address = new Memory(16);
    LIBC.getsockname(fd, address, new IntByReference(16));
    return ((address.getByte(2) & 0xff) << 8) | (address.getByte(3) & 0xff);
  }

  /** Accepts (non-blocking) until the queue is empty; closes what it accepted. */
  static int acceptAll(int listener) {
    int accepted = 0;
    int fd;
    while ((fd = LIBC.accept(listener, Pointer.NULL, Pointer.NULL)) >= 0) {
      LIBC.close(fd);
      accepted++;
    }
    return accepted;
  }

  /**
   * Opens {@code count} connections to the port: each is in a listener's accept queue once {@code connect}
   * returns (the kernel completes the handshake), and stays there until accepted.
   */
  static List<Socket> connect(int port, int count) throws IOException {
    List<Socket> clients = new ArrayList<>();
    try {
      for (int i = 0; i < count; i++) {
        Socket s = new Socket();
        clients.add(s);
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2_000);
      }
      return clients;
    } catch (IOException e) {
      closeAll(clients);
      throw e;
    }
  }

  static void closeAll(List<Socket> clients) throws IOException {
    for (Socket s : clients) {
      s.close();
    }
  }

  static void close(int fd) {
    LIBC.close(fd);
  }
}
