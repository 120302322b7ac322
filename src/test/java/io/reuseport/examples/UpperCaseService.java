package io.reuseport.examples;

// tag::service[]
import io.reuseport.service.Service;
import io.reuseport.service.ServiceContext;
import io.reuseport.service.ServiceProvider;
import io.vertx.core.buffer.Buffer;

public final class UpperCaseService implements Service {
  @Override
  public TcpHandler onConnect(TcpSession session) {
    // the peer's end closes the connection once the replies are written: TcpHandler.onEnd's default
    return data -> session.write(Buffer.buffer(data.toString().toUpperCase()));
  }

  @Override
  public void onDatagram(Buffer payload, DatagramReply sender) {
    sender.send(Buffer.buffer(payload.toString().toUpperCase()));
  }

  public static final class Provider implements ServiceProvider {
    public String name() { return "upper"; }
    public Service create(ServiceContext context) { return new UpperCaseService(); }
  }
}
// end::service[]
