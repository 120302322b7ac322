package io.reuseport.testsupport;

import io.reuseport.service.Service;
import io.reuseport.service.ServiceContext;
import io.reuseport.service.ServiceProvider;
import io.vertx.core.buffer.Buffer;

/**
 * A broken service for fault tests: its {@code onConnect} throws an {@link Error}, not an exception, the way a
 * plug-in does when a class it needs is missing ({@link NoClassDefFoundError}, odd connections of an instance) or
 * when it recurses without end (a real {@link StackOverflowError}, even ones). Datagrams are echoed.
 */
public final class ConnectErrorService implements Service {

  private int connections;

  @Override
  public TcpHandler onConnect(TcpSession session) {
    connections++;
    if (connections % 2 == 1) {
      throw new NoClassDefFoundError("io/example/MissingDependency");
    }
    return recurse(session);
  }

  private TcpHandler recurse(TcpSession session) {
    return recurse(session);
  }

  @Override
  public void onDatagram(Buffer payload, DatagramReply sender) {
    sender.send(payload);
  }

  public static final class Provider implements ServiceProvider {
    @Override
    public String name() {
      return "connect-error";
    }

    @Override
    public Service create(ServiceContext context) {
      return new ConnectErrorService();
    }
  }
}
