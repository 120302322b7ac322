package io.reuseport.server;

import java.util.ArrayList;
import java.util.List;

/**
 * Listening TCP sockets and UDP sockets received from the process this one takes over, as file descriptors of this
 * process. They stay bound and listening throughout: the new instances serve them instead of binding their own.
 *
 * @param port the port they are bound to
 */
public record InheritedSockets(int port, List<Integer> tcpFds, List<Integer> udpFds) {

  public InheritedSockets {
    tcpFds = List.copyOf(tcpFds);
    udpFds = List.copyOf(udpFds);
  }

  /** Nothing inherited: every instance binds its own sockets. */
  public static InheritedSockets none() {
    return new InheritedSockets(0, List.of(), List.of());
  }

  public boolean isEmpty() {
    return tcpFds.isEmpty() && udpFds.isEmpty();
  }

  /**
   * The share of instance {@code id} out of {@code instances}: every socket goes to exactly one instance (socket
   * {@code j} to instance {@code j % instances}), so none is ever closed when the counts differ.
   */
  InheritedSockets shareOf(int id, int instances) {
    return new InheritedSockets(port, every(tcpFds, id, instances), every(udpFds, id, instances));
  }

  private static List<Integer> every(List<Integer> fds, int id, int instances) {
    List<Integer> share = new ArrayList<>();
    for (int j = id; j < fds.size(); j += instances) {
      share.add(fds.get(j));
    }
    return share;
  }
}
