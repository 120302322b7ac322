package io.reuseport.server;

import io.netty.channel.Channel;
import io.reuseport.service.Service;

import java.util.Set;

/**
 * Admits or rejects each accepted connection of one TCP listener, then sets up its pipeline: the instance's
 * {@link ConnectionAcceptor.Setup}. One per listener (it ends that listener's run of accept failures); all of an
 * instance's listeners share its admission, open set and idle sweeper. On the instance's event loop only.
 */
final class ConnectionSetup implements ConnectionAcceptor.Setup {

  private final Service service;
  private final ConnectionAdmission admission;
  private final Set<Channel> open;
  private final IdleSweeper idle;
  /** The same listener's accept errors; goes in the listener's pipeline. */
  private final AcceptFailures failures;

  ConnectionSetup(Service service, ConnectionAdmission admission, Set<Channel> open, IdleSweeper idle) {
    this.service = service;
    this.admission = admission;
    this.open = open;
    this.idle = idle;
    this.failures = new AcceptFailures(admission.counters());
  }

  /** The handler for the listener's own pipeline that counts its accept errors. */
  AcceptFailures failures() {
    return failures;
  }

  @Override
  public void setUp(Channel connection) {
    failures.accepted();
    if (!admission.admit()) {
      connection.close();
      return;
    }
    try {
      connection.pipeline().addLast(TcpConnectionHandler.NAME,
          new TcpConnectionHandler(service, admission, open, idle));
    } catch (Throwable t) {
      // no handler to count its close (e.g. its class failed to load): undo the admission; the acceptor closes it
      admission.closed(ConnectionAdmission.Ending.FAILED);
      throw t;
    }
  }
}
