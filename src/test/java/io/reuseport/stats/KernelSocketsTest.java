package io.reuseport.stats;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class KernelSocketsTest {

  @Test
  void parsesProcNetUdpRowsWithDrops() {
    List<String> lines = List.of(
        "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref"
            + " pointer drops",
        "  120: 0100007F:2328 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2"
            + " 0000000000000000 17",
        "  121: 0100007F:2329 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 4243 2"
            + " 0000000000000000 0");
    List<KernelSockets.Entry> entries = KernelSockets.parse("udp", lines, 9000);
    assertThat(entries).containsExactly(new KernelSockets.Entry("udp", 9000, 7, 0, 4242, 17));
  }

  @Test
  void parsesProcNetTcp6Listeners() {
    List<String> lines = List.of(
        "  sl  local_address                         remote_address                        st tx_queue rx_queue"
            + " tr tm->when retrnsmt   uid  timeout inode",
        "   0: 00000000000000000000000000000000:2328 00000000000000000000000000000000:0000 0A"
            + " 00000000:00000000 00:00000000 00000000   65534        0 777 1 0000000000000000 100 0 0 10 0");
    assertThat(KernelSockets.parse("tcp6", lines, 9000))
        .containsExactly(new KernelSockets.Entry("tcp6", 9000, 0x0A, 65534, 777, 0));
  }

  @Test
  void readsTheStateColumnWithoutSplitting() {
    assertThat(KernelSockets.state("   0: 0100007F:2328 00000000:0000 0A 00000000:00000000 00:00000000 00000000"))
        .isEqualTo(0x0A);
    assertThat(KernelSockets.state("  17: 0100007F:2328 0100007F:D4F2 06 00000000:00000000 03:00001770 00000000"))
        .isEqualTo(0x06);
    assertThat(KernelSockets.state("   0: 0100007F:2328")).isEqualTo(-1);
  }

  @Test
  void ownAmongFindsThisProcesssListenersAndNothingElse() throws Exception {
    try (ServerSocket a = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
         ServerSocket b = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Set<Long> listeners = new HashSet<>();
      KernelSockets.tcpListeners(a.getLocalPort()).forEach(e -> listeners.add(e.inode()));
      KernelSockets.tcpListeners(b.getLocalPort()).forEach(e -> listeners.add(e.inode()));
      assertThat(listeners).hasSize(2);
      assertThat(KernelSockets.ownAmong(listeners)).isEqualTo(listeners);
      assertThat(KernelSockets.ownInodes()).containsAll(listeners);
      // no socket has inode 0 (nor is this one ours): the listing reads to its end and finds neither
      Set<Long> withStranger = new HashSet<>(listeners);
      withStranger.add(0L);
      assertThat(KernelSockets.ownAmong(withStranger)).isEqualTo(listeners);
      assertThat(KernelSockets.ownAmong(Set.of())).isEmpty();
    }
  }
}
