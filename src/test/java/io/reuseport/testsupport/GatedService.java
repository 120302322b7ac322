package io.reuseport.testsupport;

import io.reuseport.service.EchoService;
import io.reuseport.service.Service;
import io.reuseport.service.ServiceContext;
import io.reuseport.service.ServiceProvider;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;

/**
 * An echo service that is not ready until a test opens the gate: start-up can be watched half-way. In a child
 * process, {@code -Dgated.openAfterMs=N} opens it by itself N ms after the first instance asks.
 */
public final class GatedService implements Service {

  private static volatile Promise<Void> gate = Promise.promise();

  /** Closes the gate for the next server start. */
  public static void close() {
    gate = Promise.promise();
  }

  /** Lets every instance waiting on the gate bind. */
  public static void open() {
    gate.tryComplete();
  }

  @Override
  public Future<?> ready() {
    long openAfterMs = Long.getLong("gated.openAfterMs", -1);
    if (openAfterMs >= 0) {
      Promise<Void> current = gate;
      Thread opener = new Thread(() -> {
        try {
          // the slow start itself, as -Dgated.openAfterMs asks for: a delay, not a wait for anything
          Thread.sleep(openAfterMs);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        current.tryComplete();
      }, "gate-opener");
      opener.setDaemon(true);
      opener.start();
    }
    return gate.future();
  }

  private final Service echo = new EchoService.Provider().create(null);

  @Override
  public TcpHandler onConnect(TcpSession session) {
    return echo.onConnect(session);
  }

  @Override
  public void onDatagram(Buffer payload, DatagramReply sender) throws Exception {
    echo.onDatagram(payload, sender);
  }

  public static final class Provider implements ServiceProvider {
    @Override
    public String name() {
      return "gated";
    }

    @Override
    public Service create(ServiceContext context) {
      return new GatedService();
    }
  }
}
