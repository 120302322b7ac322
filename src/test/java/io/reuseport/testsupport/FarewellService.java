package io.reuseport.testsupport;

import io.reuseport.service.EchoService;
import io.reuseport.service.Service;
import io.reuseport.service.ServiceContext;
import io.reuseport.service.ServiceProvider;
import io.vertx.core.buffer.Buffer;

/**
 * A test service that shows whether it heard of a peer's end: echoes (it is {@link EchoService} but for the end),
 * and when the peer shuts its sending side down ({@code onEnd}) writes {@value #FAREWELL} and closes.
 */
public final class FarewellService implements Service {

  public static final String FAREWELL = "bye\n";

  private final Service echo = new EchoService();

  @Override
  public TcpHandler onConnect(TcpSession session) {
    TcpHandler echoing = echo.onConnect(session);
    return new TcpHandler() {
      @Override
      public void onData(Buffer data) throws Exception {
        echoing.onData(data);
      }

      @Override
      public void onEnd(TcpSession ended) {
        session.write(Buffer.buffer(FAREWELL));
        session.close();
      }
    };
  }

  @Override
  public void onDatagram(Buffer payload, DatagramReply sender) throws Exception {
    echo.onDatagram(payload, sender);
  }

  public static final class Provider implements ServiceProvider {
    @Override
    public String name() {
      return "farewell";
    }

    @Override
    public Service create(ServiceContext context) {
      return new FarewellService();
    }
  }
}
