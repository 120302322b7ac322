package io.reuseport.testsupport;

import io.reuseport.service.EchoService;
import io.reuseport.service.Service;
import io.reuseport.service.ServiceContext;
import io.reuseport.service.ServiceProvider;
import io.vertx.core.buffer.Buffer;

/**
 * A test service plugged in through {@link java.util.ServiceLoader}, like a user's own: it tells each client which
 * instance and which thread served it. TCP: one line {@code "<instance> <thread>\n"} on connect, then echo. UDP: the
 * same line as the reply to every datagram.
 */
public final class WhoAmIService implements Service {

  private final int instanceId;

  WhoAmIService(int instanceId) {
    this.instanceId = instanceId;
  }

  private final Service echo = new EchoService.Provider().create(null);

  @Override
  public TcpHandler onConnect(TcpSession session) {
    session.write(Buffer.buffer(whoami() + "\n"));
    return echo.onConnect(session);
  }

  @Override
  public void onDatagram(Buffer payload, DatagramReply sender) {
    sender.send(Buffer.buffer(whoami()));
  }

  private String whoami() {
    return instanceId + " " + Thread.currentThread().getName();
  }

  public static final class Provider implements ServiceProvider {
    @Override
    public String name() {
      return "whoami";
    }

    @Override
    public Service create(ServiceContext context) {
      return new WhoAmIService(context.instanceId());
    }
  }
}
