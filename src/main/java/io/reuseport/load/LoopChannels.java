package io.reuseport.load;

import io.netty.bootstrap.Bootstrap;
import io.vertx.core.Context;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.spi.transport.Transport;

/**
 * Netty {@link Bootstrap}s on the event loop of a Vert.x context, with the channel classes of the Vert.x transport
 * (epoll when available). Workers drive raw Netty channels there: a connection or datagram then costs the client a
 * fraction of what a Vert.x {@code NetSocket} or {@code DatagramSocket} costs, and the client must not be what a
 * benchmark measures. The load package's only use of {@code io.vertx.core.internal}.
 */
final class LoopChannels {

  private LoopChannels() {
  }

  /** For TCP connections. */
  static Bootstrap bootstrap(Context context) {
    ContextInternal ctx = (ContextInternal) context;
    return new Bootstrap()
        .group(ctx.nettyEventLoop())
        .channelFactory(ctx.owner().transport().channelFactory(false));
  }

  /** For UDP sockets. */
  static Bootstrap datagramBootstrap(Context context) {
    ContextInternal ctx = (ContextInternal) context;
    Transport transport = ctx.owner().transport();
    return new Bootstrap()
        .group(ctx.nettyEventLoop())
        .channelFactory(transport::datagramChannel);
  }
}
