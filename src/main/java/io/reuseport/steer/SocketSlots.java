package io.reuseport.steer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * This process's sockets and their keys in the selector's socket map, with those not in it yet. A socket can be in
 * one {@code REUSEPORT_SOCKARRAY} at a time: after a takeover the received sockets are still in the old process's
 * map until it takes them out when it hands over, so they wait here and the watchdog retries. Meanwhile their
 * buckets fall back to the kernel's hash (among the same sockets). Used by one thread at a time.
 */
final class SocketSlots {

  private static final Logger LOG = LoggerFactory.getLogger(SocketSlots.class);

  private record Entry(int key, int fd) {
  }

  private final List<Entry> all = new ArrayList<>();
  private final List<Entry> pending = new ArrayList<>();

  /**
   * @param sockets per instance (index = slot), its TCP listener's and UDP socket's descriptors; -1 for none (an
   *     HTTP instance has no UDP socket)
   */
  SocketSlots(List<int[]> sockets) {
    for (int slot = 0; slot < sockets.size(); slot++) {
      all.add(new Entry(Selector.key(slot, false), sockets.get(slot)[0]));
      if (sockets.get(slot)[1] >= 0) {
        all.add(new Entry(Selector.key(slot, true), sockets.get(slot)[1]));
      }
    }
  }

  /** Puts every socket in the map; those held by another selector wait for {@link #retry}. */
  void putAll(Selector selector) {
    for (Entry e : all) {
      if (!selector.putSocket(e.key(), e.fd())) {
        pending.add(e);
      }
    }
    if (!pending.isEmpty()) {
      LOG.info("steering: {} of {} sockets are still in the previous process's selector; the kernel's hash picks"
          + " for their buckets until it lets them go", pending.size(), all.size());
    }
  }

  /** Tries the waiting sockets again; logs once when none is left. */
  void retry(Selector selector) {
    if (pending.isEmpty()) {
      return;
    }
    pending.removeIf(e -> selector.putSocket(e.key(), e.fd()));
    if (pending.isEmpty()) {
      LOG.info("steering: every socket is in this process's selector now");
    }
  }

  /** Takes every socket out of the map (for the process that takes them over). */
  void removeAll(Selector selector) {
    for (Entry e : all) {
      selector.removeSocket(e.key());
    }
  }
}
