package io.reuseport.testsupport;

import io.reuseport.service.Service;
import io.reuseport.service.ServiceContext;
import io.reuseport.service.ServiceProvider;
import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;

/**
 * A deliberately bad echo service for fault tests: a TCP message starting with {@code stall} blocks its instance's
 * event loop for {@value #STALL_MS} ms, or for N ms with {@code stall N} (the one place an event loop is blocked on
 * purpose), one starting with {@code boom} throws, {@code id} answers the instance's id; anything else is echoed.
 * A datagram {@code id} is answered with the instance's id, any other is echoed.
 */
public final class StallService implements Service {

  public static final int STALL_MS = 8_000;

  private final int instance;

  private StallService(int instance) {
    this.instance = instance;
  }

  @Override
  public TcpHandler onConnect(TcpSession session) {
    return new TcpHandler() {
      @Override
      public void onData(Buffer data) {
        String text = data.toString(StandardCharsets.US_ASCII);
        if (text.startsWith("stall")) {
          String ms = text.substring("stall".length()).trim();
          sleep(ms.isEmpty() ? STALL_MS : Long.parseLong(ms));
          session.write(Buffer.buffer("stalled\n"));
        } else if (text.startsWith("id")) {
          session.write(Buffer.buffer(instance + "\n"));
        } else if (text.startsWith("boom")) {
          throw new IllegalStateException("boom, as asked");
        } else {
          session.write(data);
        }
      }
    };
  }

  @Override
  public void onDatagram(Buffer payload, DatagramReply sender) {
    if ("id".equals(payload.toString(StandardCharsets.US_ASCII))) {
      sender.send(Buffer.buffer(Integer.toString(instance)));
      return;
    }
    sender.send(payload);
  }

  private static void sleep(long ms) {
    try {
      // the stall itself: this instance's event loop blocked on purpose
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public static final class Provider implements ServiceProvider {
    @Override
    public String name() {
      return "stall";
    }

    @Override
    public Service create(ServiceContext context) {
      return new StallService(context.instanceId());
    }
  }
}
