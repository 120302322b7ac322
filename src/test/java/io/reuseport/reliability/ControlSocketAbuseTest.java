package io.reuseport.reliability;

import io.reuseport.testsupport.ChildServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

// Blocking by design: real processes take over, fail and get signals; the test waits on their output and exits.
/**
 * Peers that break the control protocol, against a real server process: garbage, an oversized line, a bare
 * {@code DRAIN}, a repeated {@code SEND}, a flood of them, a half-finished exchange, and a crowd of silent
 * connections. Each gets the offer (and, after a SEND, the descriptors once), then the server ends the exchange:
 * the test reads every reply; why it ended is logged once (the protocol has no error line). The server keeps serving,
 * its descriptors stay bounded, and a proper takeover still works afterwards. Blocking Unix-socket clients: these are
 * the peers, not the server.
 */
@Timeout(110)
class ControlSocketAbuseTest {

  @TempDir
  Path dir;

  @Test
  void misbehavingPeersAreRefusedAndTheServerServesAndHandsOverAfterwards() throws Exception {
    Path control = dir.resolve("control.sock");
    try (ChildServer old = ChildServer.start(dir, Map.of(), "--host", "127.0.0.1", "--port", "0",
        "--admin-host", "127.0.0.1", "--admin-port", "0", "--instances", "2", "--drain-timeout-seconds", "5",
        "--control-socket", control.toString())) {
      int port = old.awaitReadyPort(60);
      old.awaitLine("control socket " + control, 30);
      int fdsBefore = openFds(old);

      // each peer gets the offer, then the server ends the exchange (the reply ends); the protocol has no error
      // line, so why it ended is in the log only
      String offer = "TAKEOVER 1 port=" + port + " tcp=2 udp=2\n";
      assertThat(exchange(control, "HELLO?\n")).as("reply to garbage: the offer only").isEqualTo(offer);
      assertThat(exchange(control, "x".repeat(10_000))).as("reply to an oversized line").isEqualTo(offer);
      assertThat(exchange(control, "DRAIN\n")).as("reply to a bare DRAIN: no descriptors").isEqualTo(offer);
      assertThat(exchange(control, "SEND\nSEND\n")).as("reply to a repeated SEND: the offer and the 4 descriptor"
          + " messages (1 byte each), once").startsWith(offer).hasSize(offer.length() + 4);
      assertThat(exchange(control, "SEND\n".repeat(2_000_000))).as("reply to a flood of SEND (10 MB)")
          .startsWith(offer);
      halfFinished(control);
      for (String line : List.of("expected SEND, got 'HELLO?'", "longer than 256 bytes", "expected SEND, got 'DRAIN'",
          "expected DRAIN, got 'SEND'", "abandoned")) {
        old.awaitLine(line, 30);
      }
      assertThat(Echo.tcp(port)).isTrue();

      // silent peers: one holds the exchange until its deadline, the others are refused at once
      List<SocketChannel> silent = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        silent.add(connect(control));
      }
      int busy = 0;
      for (SocketChannel peer : silent.subList(1, silent.size())) {
        busy += readAll(peer).startsWith("BUSY") ? 1 : 0;
      }
      assertThat(busy).as("refused while another peer holds the exchange").isEqualTo(199);
      assertThat(readAll(silent.get(0))).as("the silent peer is cut off at its deadline").startsWith("TAKEOVER 1");
      for (SocketChannel peer : silent) {
        peer.close();
      }
      old.awaitLine("no SEND within 10 s", 30);
      old.awaitLine("refused 199 connections while", 30);
      assertThat(old.output()).filteredOn(l -> l.contains("is taking over already")).hasSize(1);
      assertThat(old.output()).as("one line per refused peer (6, then the silent one), not one per line")
          .filteredOn(l -> l.contains("control socket: takeover by pid")).hasSize(7);
      assertThat(openFds(old)).as("descriptors after the abuse, %d before", fdsBefore)
          .isLessThanOrEqualTo(fdsBefore + 10);
      assertThat(Echo.tcp(port)).isTrue();
      assertThat(old.output()).noneMatch(l -> l.contains("handing over"));

      try (ChildServer next = ChildServer.start(dir, Map.of(), "--host", "127.0.0.1", "--admin-host", "127.0.0.1",
          "--admin-port", "0", "--instances", "2", "--takeover", control.toString())) {
        assertThat(next.awaitReadyPort(60)).isEqualTo(port);
        assertThat(old.awaitExit(60)).as("old output %s", old.output()).isZero();
        assertThat(Echo.tcp(port)).isTrue();
        assertThat(Echo.udp(port, 16)).isEqualTo(16);
        next.terminate();
        assertThat(next.awaitExit(60)).isZero();
      }
    }
  }

  /** Asks for the sockets, reads the offer and the 4 descriptor messages (1 byte each), and leaves: no DRAIN. */
  private static void halfFinished(Path control) throws IOException {
    try (SocketChannel channel = connect(control)) {
      channel.write(ByteBuffer.wrap("SEND\n".getBytes(StandardCharsets.US_ASCII)));
      StringBuilder in = new StringBuilder();
      ByteBuffer buf = ByteBuffer.allocate(256);
      while (in.indexOf("\n") < 0 || in.length() < in.indexOf("\n") + 1 + 4) {
        buf.clear();
        if (channel.read(buf) < 0) {
          break;
        }
        buf.flip();
        in.append(StandardCharsets.ISO_8859_1.decode(buf));
      }
      assertThat(in.toString()).startsWith("TAKEOVER 1");
    }
  }

  private static SocketChannel connect(Path control) throws IOException {
    SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
    channel.connect(UnixDomainSocketAddress.of(control));
    return channel;
  }

  /** Connects, writes {@code text} (as much as the server takes before it closes), reads until EOF. */
  private static String exchange(Path control, String text) throws IOException {
    try (SocketChannel channel = connect(control)) {
      try {
        ByteBuffer out = ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII));
        while (out.hasRemaining()) {
          channel.write(out);
        }
      } catch (IOException e) {
        // the server closed the connection mid-write: that is the refusal
      }
      return readAll(channel);
    }
  }

  /** Reads until the server closes (passed descriptors, read without a control buffer, are discarded). */
  private static String readAll(SocketChannel channel) throws IOException {
    StringBuilder in = new StringBuilder();
    ByteBuffer buf = ByteBuffer.allocate(4096);
    try {
      while (channel.read(buf) >= 0) {
        buf.flip();
        in.append(StandardCharsets.US_ASCII.decode(buf));
        buf.clear();
      }
    } catch (IOException e) {
      // reset by the server: the end as well
    }
    return in.toString();
  }

  private static int openFds(ChildServer child) throws IOException {
    try (var fds = Files.list(Path.of("/proc", Long.toString(child.pid()), "fd"))) {
      return (int) fds.count();
    }
  }
}
