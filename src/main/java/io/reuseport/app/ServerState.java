package io.reuseport.app;

import io.reuseport.admin.Readiness;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where the server is in its life, read by the readiness probe from any thread. The phase only moves forward:
 * once a stop was asked for, readiness never goes up again, even when start-up completes afterwards.
 */
public final class ServerState implements Readiness {

  private Phase phase = Phase.STARTING;
  /** Instances whose sockets no longer serve, with the reason; empty when all is well. */
  private final Map<Integer, String> socketProblems = new ConcurrentHashMap<>();

  @Override
  public synchronized Phase phase() {
    return phase;
  }

  /** Ready, unless a stop was asked for first; returns whether readiness went up. */
  synchronized boolean markReady() {
    if (phase == Phase.STARTING) {
      phase = Phase.READY;
    }
    return phase == Phase.READY;
  }

  /** A stop was asked for (a signal, a hand-over): readiness turns 503 for good. */
  public synchronized void requestStop() {
    phase = Phase.DRAINING;
  }

  public synchronized boolean stopRequested() {
    return phase == Phase.DRAINING;
  }

  /**
   * Runs {@code action} only while ready, atomically with {@link #requestStop()}: either the action ran before any
   * stop was asked for, or it does not run at all. The takeover's point of no return (telling the old process to
   * drain) goes through here.
   */
  public synchronized boolean whileReady(Runnable action) {
    if (phase != Phase.READY) {
      return false;
    }
    action.run();
    return true;
  }

  /** Records that an instance's sockets stopped serving ({@code problem} non-null) or serve again (null). */
  void socketProblem(int instance, String problem) {
    if (problem == null) {
      socketProblems.remove(instance);
    } else {
      socketProblems.put(instance, problem);
    }
  }

  @Override
  public List<String> socketProblems() {
    return new TreeMap<>(socketProblems).entrySet().stream()
        .map(e -> "instance " + e.getKey() + ": " + e.getValue()).toList();
  }
}
