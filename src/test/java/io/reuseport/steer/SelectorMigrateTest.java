package io.reuseport.steer;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

// Blocking by design: raw listeners and clients; what is tested is what the kernel does with a closing queue.
/**
 * The lossless close: two listeners of one group, the selector's table sending every SYN to A, connections queued
 * on A and never accepted, then A closed with {@code net.ipv4.tcp_migrate_req=0}. Loaded as
 * {@code SELECT_OR_MIGRATE}, every queued connection moves to B; loaded as plain {@code SELECT}, the kernel resets
 * them (so the test can fail). The listeners are raw sockets through libc, so that nothing but the kernel and the
 * selector acts on them. Root only.
 */
@Timeout(60)
class SelectorMigrateTest {

  private static final int QUEUED = 50;
  private static final int AF_INET = 2;
  private static final int SOCK_STREAM = 1;
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

  @BeforeEach
  void rootOnly() throws IOException {
    Assumptions.assumeTrue(Files.readString(Path.of("/proc/self/status")).contains("\nUid:\t0\t"),
        "skipped: the BPF selector needs root (CAP_BPF) to load");
    Assumptions.assumeTrue(Files.readString(Path.of("/proc/sys/net/ipv4/tcp_migrate_req")).trim().equals("0"),
        "skipped: net.ipv4.tcp_migrate_req is not 0 here, so the kernel would migrate without the selector");
  }

  @Test
  void selectOrMigrateMovesEveryQueuedConnectionToTheLiveListener() throws Exception {
    assertThat(closeQueuedListener(true)).as("connections B accepted after A closed").isEqualTo(QUEUED);
  }

  @Test
  void plainSelectLosesThem() throws Exception {
    assertThat(closeQueuedListener(false)).as("connections B accepted after A closed").isZero();
  }

  /** Queues {@link #QUEUED} connections on A, closes A: how many B then accepts. */
  private static int closeQueuedListener(boolean migrate) throws Exception {
    int a = listener(0);
    int port = portOf(a);
    int b = listener(port);
    List<Socket> clients = new ArrayList<>();
    try (Selector selector = Selector.load(2, 120, migrate)) {
      assertThat(selector.putSocket(Selector.key(0, false), a)).isTrue();
      assertThat(selector.putSocket(Selector.key(1, false), b)).isTrue();
      int[] allToA = new int[SelectorProgram.BUCKETS];
      selector.writeTable(allToA);
      selector.attach(a);
      for (int i = 0; i < QUEUED; i++) {
        Socket s = new Socket();
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2_000);
        clients.add(s);
      }
      assertThat(acceptAll(b)).as("B's queue before A closes: the table sends everything to A").isZero();
      LIBC.close(a);
      return acceptAll(b);
    } finally {
      for (Socket s : clients) {
        s.close();
      }
      LIBC.close(b);
    }
  }

  private static int listener(int port) {
    int fd = LIBC.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
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
    LIBC.listen(fd, QUEUED * 2);
    return fd;
  }

  private static int portOf(int fd) {
    Memory address = new Memory(16);
    LIBC.getsockname(fd, address, new IntByReference(16));
    return ((address.getByte(2) & 0xff) << 8) | (address.getByte(3) & 0xff);
  }

  /** Accepts (non-blocking) until the queue is empty; closes what it accepted. */
  private static int acceptAll(int listener) {
    int accepted = 0;
    int fd;
    while ((fd = LIBC.accept(listener, Pointer.NULL, Pointer.NULL)) >= 0) {
      LIBC.close(fd);
      accepted++;
    }
    return accepted;
  }
}
