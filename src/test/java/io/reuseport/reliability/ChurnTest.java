package io.reuseport.reliability;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

// Blocking by design: Churn's clients are plain threads; the test waits for them on the clock, bounded.
/**
 * The churn helper itself: a client thread that stops early fails the test that used it, instead of passing as
 * "0 lost". Its UDP client is made to stop by the one datagram the kernel refuses to send: one to port 0. The
 * control: a UDP client echoed to the end closes quietly.
 */
@Timeout(60)
class ChurnTest {

  @Test
  void aUdpClientStoppedByASocketErrorFailsTheClose() throws Exception {
    Churn churn = new Churn(0, 0, 1);
    awaitUpTo30s(() -> !churn.counts().getJsonObject("clientsStopped").isEmpty());
    assertThat(churn.udpLost.sum()).as("what the tests used to read: nothing lost").isZero();
    assertThatThrownBy(churn::close).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("churn clients stopped before the end").hasMessageContaining("churn-udp-0");
  }

  @Test
  void aUdpClientEchoedToTheEndClosesQuietly() throws Exception {
    try (DatagramSocket echo = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
      Thread server = new Thread(() -> echo(echo), "udp-echo");
      server.start();
      Churn churn = new Churn(echo.getLocalPort(), 0, 1);
      awaitUpTo30s(() -> churn.udpSent.sum() >= 20);
      churn.close();
      assertThat(churn.udpLost.sum()).isZero();
      assertThat(churn.counts().getJsonObject("clientsStopped")).isEmpty();
    }
  }

  private static void echo(DatagramSocket socket) {
    byte[] buf = new byte[64];
    try {
      while (true) {
        DatagramPacket packet = new DatagramPacket(buf, buf.length);
        socket.receive(packet);
        socket.send(packet);
      }
    } catch (IOException e) {
      // closed by the test: the end
    }
  }

  private static void awaitUpTo30s(BooleanSupplier done) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!done.getAsBoolean() && System.nanoTime() < deadline) {
      // poll pause: bounded by the deadline; the assertions that follow say what did not happen
      Thread.sleep(10);
    }
  }
}
