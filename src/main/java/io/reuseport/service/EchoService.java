package io.reuseport.service;

import io.vertx.core.buffer.Buffer;

/**
 * TCP: every byte back to the sender, in order. UDP: every datagram back to its sender.
 */
public final class EchoService implements Service {

  private static final class Connection implements Service.TcpHandler {
    private final TcpSession session;

    Connection(TcpSession session) {
      this.session = session;
    }

    @Override
    public void onData(Buffer data) {
      session.write(data);
    }
  }

  @Override
  public TcpHandler onConnect(TcpSession session) {
    return new Connection(session);
  }

  @Override
  public void onDatagram(Buffer payload, DatagramReply sender) {
    sender.send(payload);
  }

  public static final class Provider implements ServiceProvider {
    @Override
    public String name() {
      return "echo";
    }

    @Override
    public Service create(ServiceContext context) {
      return new EchoService();
    }
  }
}
