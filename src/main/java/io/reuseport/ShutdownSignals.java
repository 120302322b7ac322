package io.reuseport;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.ToIntFunction;

/**
 * SIGTERM and SIGINT start a drain and exit with its code. A JVM shutdown hook could not choose the exit code (the
 * JVM exits 143 on SIGTERM), and orchestrators read a non-zero code as a crash.
 */
final class ShutdownSignals {

  private static final Logger LOG = LoggerFactory.getLogger(ShutdownSignals.class);

  private final AtomicBoolean started = new AtomicBoolean();
  private final ToIntFunction<String> drain;

  private ShutdownSignals(ToIntFunction<String> drain) {
    this.drain = drain;
  }

  /** Installs the handlers; {@link #begin} starts the same drain for other reasons (a takeover). */
  static ShutdownSignals onTerminate(ToIntFunction<String> drain) {
    ShutdownSignals signals = new ShutdownSignals(drain);
    for (String name : new String[] {"TERM", "INT"}) {
      Signal.handle(new Signal(name), signal -> signals.begin("SIG" + name));
    }
    return signals;
  }

  /** Drains once, on a thread of its own, and exits with the drain's code; later calls only log. */
  void begin(String reason) {
    if (!started.compareAndSet(false, true)) {
      LOG.info("{} received while draining; still draining", reason);
      return;
    }
    // the signal thread must not block: drain on a thread of its own
    Thread drainer = new Thread(() -> System.exit(drain.applyAsInt(reason)), "reuseport-drain");
    drainer.start();
  }
}
