package io.reuseport.testsupport;

import io.reuseport.service.Service;
import io.reuseport.service.ServiceContext;
import io.reuseport.service.ServiceProvider;
import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;

/**
 * A service whose requests cost CPU, for the load-steering tests and benchmark: a TCP line {@code burn N} keeps its
 * instance's event loop computing for N ms (at most {@value #MAX_BURN_MS}), then answers {@code burnt}; its loop
 * runs throughout, so it never looks stalled, only busy. {@code id} answers the instance's id; anything else is
 * echoed. A datagram {@code id} is answered with the instance's id, any other is echoed.
 */
public final class BurnService implements Service {

  static final long MAX_BURN_MS = 1_000;

  private final int instance;
  /** Kept so that the JIT cannot drop the burn. */
  private long sink;

  private BurnService(int instance) {
    this.instance = instance;
  }

  @Override
  public TcpHandler onConnect(TcpSession session) {
    return new TcpHandler() {
      @Override
      public void onData(Buffer data) {
        String text = data.toString(StandardCharsets.US_ASCII).trim();
        if (text.startsWith("burn")) {
          burn(Math.min(MAX_BURN_MS, Long.parseLong(text.substring("burn".length()).trim())));
          session.write(Buffer.buffer("burnt\n"));
        } else if (text.equals("id")) {
          session.write(Buffer.buffer(instance + "\n"));
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

  /** The request's cost: computing on this event loop for {@code ms} (on purpose, as an expensive request does). */
  private void burn(long ms) {
    long end = System.nanoTime() + ms * 1_000_000;
    long x = sink;
    while (System.nanoTime() < end) {
      for (int i = 0; i < 1_000; i++) {
        x = x * 6364136223846793005L + 1442695040888963407L;
      }
    }
    sink = x;
  }

  public static final class Provider implements ServiceProvider {
    @Override
    public String name() {
      return "burn";
    }

    @Override
    public Service create(ServiceContext context) {
      return new BurnService(context.instanceId());
    }
  }
}
