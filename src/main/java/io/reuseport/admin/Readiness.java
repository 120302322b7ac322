package io.reuseport.admin;

import java.util.List;
import java.util.Locale;

/**
 * What the admin server reads to answer the health probes and {@code reuseport_ready}: where the server is in its
 * life, and what is wrong with its sockets. Read from any thread; whoever starts the server implements it.
 */
public interface Readiness {

  /** The phases, in order; a server only moves forward through them. */
  enum Phase {
    STARTING, READY, DRAINING;

    public String id() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  Phase phase();

  /** What is wrong with the sockets, one line per instance, ordered by instance; empty when nothing is. */
  List<String> socketProblems();
}
