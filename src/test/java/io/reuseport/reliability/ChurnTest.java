package io.reuseport.reliability;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

// Blocking by design: Churn's clients are plain threads; the test waits for one to stop.
/**
 * The churn helper itself: a client thread that stops early fails the test that used it, instead of passing as
 * "0 lost". Its UDP client is made to stop by the one datagram the kernel refuses to send: one to port 0.
 */
@Timeout(60)
class ChurnTest {

  @Test
  void aUdpClientStoppedByASocketErrorFailsTheClose() throws Exception {
    Churn churn = new Churn(0, 0, 1);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (churn.counts().getJsonObject("clientsStopped").isEmpty() && System.nanoTime() < deadline) {
      // poll pause: the client stops on its first send; bounded by the deadline
      Thread.sleep(10);
    }
    assertThat(churn.udpLost.sum()).as("what the test used to read: nothing lost").isZero();
    assertThatThrownBy(churn::close).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("churn clients stopped before the end").hasMessageContaining("churn-udp-0");
  }

  @Test
  void clientsThatRanToTheEndCloseQuietly() throws Exception {
    // the control: no client, nothing stopped
    new Churn(0, 0, 0).close();
  }
}
