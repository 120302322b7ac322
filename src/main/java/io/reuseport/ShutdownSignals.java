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

  private ShutdownSignals() {
  }

  static void onTerminate(ToIntFunction<String> drain) {
    AtomicBoolean started = new AtomicBoolean();
    for (String name : new String[] {"TERM", "INT"}) {
      Signal.handle(new Signal(name), signal -> {
        if (!started.compareAndSet(false, true)) {
          LOG.info("SIG{} received while draining; still draining", name);
          return;
        }
        // the signal thread must not block: drain on a thread of its own
        Thread drainer = new Thread(() -> System.exit(drain.applyAsInt("SIG" + name)), "reuseport-drain");
        drainer.start();
      });
    }
  }
}
