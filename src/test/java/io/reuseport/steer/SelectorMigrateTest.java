package io.reuseport.steer;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.Socket;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

// Blocking by design: raw listeners and clients; what is tested is what the kernel does with a closing queue.
/**
 * The lossless close: two listeners of one group, the selector's table sending every SYN to A, connections queued
 * on A and never accepted, then A closed with {@code net.ipv4.tcp_migrate_req=0}. Loaded as
 * {@code SELECT_OR_MIGRATE}, every queued connection moves to B; loaded as plain {@code SELECT}, the kernel resets
 * them (so the test can fail). The listeners are {@link RawSockets}. Root only. That the server itself loads it so:
 * {@link SteeringMigrateTest}.
 */
@Timeout(60)
class SelectorMigrateTest {

  private static final int QUEUED = 50;

  @BeforeEach
  void rootOnly() throws IOException {
    Assumptions.assumeTrue(RawSockets.isRoot(), "skipped: the BPF selector needs root (CAP_BPF) to load");
    Assumptions.assumeFalse(RawSockets.kernelMigratesWithoutSelector(),
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
    int a = RawSockets.listener(0, QUEUED * 2);
    int port = RawSockets.portOf(a);
    int b = RawSockets.listener(port, QUEUED * 2);
    List<Socket> clients = List.of();
    try (Selector selector = Selector.load(2, 120, migrate)) {
      assertThat(selector.putSocket(Selector.key(0, false), a)).isTrue();
      assertThat(selector.putSocket(Selector.key(1, false), b)).isTrue();
      int[] allToA = new int[SelectorProgram.BUCKETS];
      selector.writeTable(allToA);
      selector.attach(a);
      clients = RawSockets.connect(port, QUEUED);
      assertThat(RawSockets.acceptAll(b)).as("B's queue before A closes: the table sends everything to A").isZero();
      RawSockets.close(a);
      return RawSockets.acceptAll(b);
    } finally {
      RawSockets.closeAll(clients);
      RawSockets.close(b);
    }
  }
}
