package io.reuseport.upgrade;

import org.slf4j.Logger;

/**
 * Keeps a flood of control-socket peers out of the log: at most {@code perWindow} lines per window about peers;
 * the rest are counted, and the count is logged once the next window opens. Used on the control loop only.
 */
final class LogBudget {

  private final Logger log;
  private final int perWindow;
  private final long windowMs;
  private long windowStart;
  private int used;
  private int suppressed;

  LogBudget(Logger log, int perWindow, long windowMs) {
    this.log = log;
    this.perWindow = perWindow;
    this.windowMs = windowMs;
  }

  /** Whether a line about a peer may be logged now. */
  boolean allow() {
    long now = System.nanoTime() / 1_000_000;
    if (now - windowStart >= windowMs) {
      if (suppressed > 0) {
        log.warn("control socket: {} more lines about peers were not logged (a flood of connections)", suppressed);
      }
      windowStart = now;
      used = 0;
      suppressed = 0;
    }
    if (used < perWindow) {
      used++;
      return true;
    }
    suppressed++;
    return false;
  }
}
