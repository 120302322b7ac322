package io.reuseport.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;

/**
 * The last handler of a TCP listener's pipeline: applies the connection options to each accepted connection,
 * registers it on the listener's own event loop and, once registered, hands it to the instance's {@link Setup}.
 *
 * <p>This is what Netty's {@code ServerBootstrap} acceptor and a {@code ChannelInitializer} do together, in the same
 * order (the setup runs once the connection is registered, before {@code channelRegistered} and
 * {@code channelActive} reach its pipeline), without the initializer's own work per connection: adding it to the
 * pipeline under a generated name, a concurrent set entry, and removing it again (about 2 % of the server's CPU
 * under churn; see bench/ANALYSIS.md). One listener object serves every registration.
 */
final class ConnectionAcceptor extends ChannelInboundHandlerAdapter implements ChannelFutureListener {

  private static final Logger LOG = LoggerFactory.getLogger(ConnectionAcceptor.class);

  /**
   * Sets up one accepted, registered connection: adds its handlers, or closes it. If it throws, it has undone what
   * it counted for the connection, and the acceptor closes it.
   */
  @FunctionalInterface
  interface Setup {
    void setUp(Channel connection);
  }

  private final Setup setup;
  private final List<Map.Entry<ChannelOption<?>, Object>> options;

  /** @param options set on every accepted connection before it is registered (Netty's child options) */
  ConnectionAcceptor(Setup setup, Map<ChannelOption<?>, Object> options) {
    this.setup = setup;
    this.options = List.copyOf(options.entrySet());
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    Channel connection = (Channel) msg;
    setOptions(connection, options);
    try {
      ctx.channel().eventLoop().register(connection).addListener(this);
    } catch (Throwable t) {
      forceClose(connection, t);
    }
  }

  /** The registration of one connection completed. */
  @Override
  public void operationComplete(ChannelFuture registered) {
    Channel connection = registered.channel();
    if (!registered.isSuccess()) {
      forceClose(connection, registered.cause());
      return;
    }
    try {
      setup.setUp(connection);
    } catch (Throwable t) {
      // an Error too, and not rethrown: Netty would only log it and leave the connection open with no handler
      LOG.warn("setting up connection {} failed, closing it: {}", connection.remoteAddress(), t.toString());
      connection.close();
    }
  }

  /** Sets options on a channel as Netty's bootstraps do: an option the channel does not know is logged. */
  @SuppressWarnings("unchecked")
  static void setOptions(Channel channel, List<Map.Entry<ChannelOption<?>, Object>> options) {
    for (Map.Entry<ChannelOption<?>, Object> option : options) {
      try {
        if (!channel.config().setOption((ChannelOption<Object>) option.getKey(), option.getValue())) {
          LOG.warn("unknown channel option {} for {}", option.getKey(), channel.getClass().getSimpleName());
        }
      } catch (RuntimeException e) {
        LOG.warn("could not set channel option {} to {} on {}: {}", option.getKey(), option.getValue(), channel,
            e.toString());
      }
    }
  }

  private static void forceClose(Channel connection, Throwable cause) {
    connection.unsafe().closeForcibly();
    LOG.warn("could not register accepted connection {}: {}", connection.remoteAddress(), cause.toString());
  }
}
