package io.reuseport;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the server does on signals. SIGTERM and SIGINT start a drain and exit with its code (0); a second one during
 * the drain stops at once: open connections are closed and the process exits with 128 + the signal's number (130
 * for SIGINT, 143 for SIGTERM), as a shell reports a process killed by that signal. A third one halts the JVM.
 * SIGHUP is logged and ignored: settings are read once at start-up, and the JVM's default would kill the process
 * (exit 129) without a drain or a word. A process started with SIGHUP ignored ({@code nohup}, some supervisors)
 * keeps it ignored (the JVM does not let a handler replace an inherited {@code SIG_IGN}): it says so once at start,
 * since a SIGHUP then goes unlogged.
 *
 * <p>A JVM shutdown hook could not choose the exit code (the JVM exits 143 on SIGTERM), and orchestrators read a
 * non-zero code as a crash.
 */
final class ShutdownSignals {

  private static final Logger LOG = LoggerFactory.getLogger(ShutdownSignals.class);
  /** After a second signal, how long closing the open connections may take before the process exits anyway. */
  private static final long FORCE_GRACE_MS = 2_000;

  /** What a stop does. */
  interface Stopper {
    /** Drains (blocking, on a thread of its own) and returns the exit code. */
    int drain(String reason);

    /** Closes everything still open, now; returns quickly. */
    void force();
  }

  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicInteger signals = new AtomicInteger();
  private final Stopper stopper;
  private volatile int forcedExitCode;

  private ShutdownSignals(Stopper stopper) {
    this.stopper = stopper;
  }

  /** Installs the handlers; {@link #begin} starts the same drain for other reasons (a takeover). */
  static ShutdownSignals install(Stopper stopper) {
    ShutdownSignals handler = new ShutdownSignals(stopper);
    for (String name : new String[] {"TERM", "INT"}) {
      Signal.handle(new Signal(name), signal -> handler.onStopSignal("SIG" + name, 128 + signal.getNumber()));
    }
    SignalHandler inherited = Signal.handle(new Signal("HUP"), signal -> LOG.warn("SIGHUP received: ignored"
        + " (settings are read once at start-up; to apply new ones, start a new process with --takeover, or stop"
        + " this one with SIGTERM)"));
    if (inherited == SignalHandler.SIG_IGN) {
      LOG.info("SIGHUP is ignored, as inherited from the parent (nohup or a supervisor): a SIGHUP will not be logged");
    }
    return handler;
  }

  private void onStopSignal(String name, int forcedCode) {
    int count = signals.incrementAndGet();
    if (count == 1) {
      begin(name);
    } else if (count == 2) {
      forcedExitCode = forcedCode;
      LOG.warn("{} received during the drain: stopping now, closing what is open (exit code {})", name, forcedCode);
      Thread forcer = new Thread(() -> {
        stopper.force();
        try {
          Thread.sleep(FORCE_GRACE_MS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        System.exit(forcedCode);
      }, "reuseport-force-stop");
      forcer.setDaemon(true);
      forcer.start();
    } else {
      Runtime.getRuntime().halt(forcedCode);
    }
  }

  /** Drains once, on a thread of its own, and exits with the drain's code; later calls only log. */
  void begin(String reason) {
    if (!started.compareAndSet(false, true)) {
      LOG.info("{} received while draining; still draining (a second SIGTERM or SIGINT stops at once)", reason);
      return;
    }
    // the signal thread must not block: drain on a thread of its own
    Thread drainer = new Thread(() -> {
      int code = stopper.drain(reason);
      System.exit(forcedExitCode != 0 ? forcedExitCode : code);
    }, "reuseport-drain");
    drainer.start();
  }
}
