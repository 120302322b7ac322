package io.reuseport.steer;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.Socket;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

// Blocking by design: raw listeners and clients; what is tested is where the kernel queues each connection.
/**
 * The selector's walk to "the next socket of ours" ({@link SelectorProgram#walk}): three {@link RawSockets}
 * listeners of one group in slots 0, 1, 2, the table sending every SYN to one slot whose socket is gone from the
 * socket map (closed, or not put in yet). Every connection must go to the next slot round the ring, none to the
 * kernel's hash: a walk that retries the same slot falls through to the hash, which spreads the connections over
 * the group. Root only.
 */
@Timeout(60)
class SelectorWalkTest {

  private static final int CLIENTS = 40;
  private static final int SLOTS = 3;

  @BeforeEach
  void rootOnly() throws IOException {
    Assumptions.assumeTrue(RawSockets.isRoot(), "skipped: the BPF selector needs root (CAP_BPF) to load");
  }

  @Test
  void aSlotWhoseSocketIsNotInTheMapYetHandsItsConnectionsToTheNextSlot() throws Exception {
    // slot 0's listener is in the group (the kernel's hash could pick it) but not in the map
    assertThat(acceptedPerSlot(0, false)).containsExactly(0, CLIENTS, 0);
  }

  @Test
  void aSlotWhoseSocketClosedHandsItsConnectionsToTheNextSlot() throws Exception {
    assertThat(acceptedPerSlot(1, true)).containsExactly(0, 0, CLIENTS);
  }

  @Test
  void theWalkWrapsRoundFromTheLastSlotToTheFirst() throws Exception {
    assertThat(acceptedPerSlot(2, false)).containsExactly(CLIENTS, 0, 0);
  }

  /**
   * Listeners in slots 0..2, the whole table to {@code gone}, whose socket is left out of the map or closed after
   * going in; then {@link #CLIENTS} connections: how many each slot's listener accepted (a closed one: 0).
   */
  private static int[] acceptedPerSlot(int gone, boolean closeIt) throws Exception {
    int[] listeners = new int[SLOTS];
    listeners[0] = RawSockets.listener(0, CLIENTS * 2);
    int port = RawSockets.portOf(listeners[0]);
    for (int slot = 1; slot < SLOTS; slot++) {
      listeners[slot] = RawSockets.listener(port, CLIENTS * 2);
    }
    List<Socket> clients = List.of();
    try (Selector selector = Selector.load(SLOTS, 120, false)) {
      for (int slot = 0; slot < SLOTS; slot++) {
        if (slot != gone || closeIt) {
          assertThat(selector.putSocket(Selector.key(slot, false), listeners[slot])).isTrue();
        }
      }
      int[] allToGone = new int[SelectorProgram.BUCKETS];
      Arrays.fill(allToGone, gone);
      selector.writeTable(allToGone);
      selector.attach(listeners[gone == 0 ? 1 : 0]);
      if (closeIt) {
        // a closed socket leaves the map by itself
        RawSockets.close(listeners[gone]);
        listeners[gone] = -1;
      }
      clients = RawSockets.connect(port, CLIENTS);
      int[] accepted = new int[SLOTS];
      for (int slot = 0; slot < SLOTS; slot++) {
        accepted[slot] = listeners[slot] < 0 ? 0 : RawSockets.acceptAll(listeners[slot]);
      }
      return accepted;
    } finally {
      RawSockets.closeAll(clients);
      for (int fd : listeners) {
        if (fd >= 0) {
          RawSockets.close(fd);
        }
      }
    }
  }
}
