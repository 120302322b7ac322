package io.reuseport.http;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * The header timeout: a connection whose first request has not finished its headers (its TLS handshake included)
 * this long after it was accepted is closed, so that clients that trickle their headers (slowloris) or send nothing
 * cannot hold connections, up to the cap, for as long as the idle timeout. Vert.x HTTP has no such timeout; its idle
 * timeout is reset by every byte. After the first request the idle timeout governs. Runs on the connection's loop.
 */
final class HeaderDeadline {

  private static final Logger LOG = LoggerFactory.getLogger(HeaderDeadline.class);
  private static final AttributeKey<ScheduledFuture<?>> KEY = AttributeKey.valueOf("reuseport.headerDeadline");

  private HeaderDeadline() {
  }

  /** Starts the clock of a connection just accepted. */
  static void arm(Channel channel, long timeoutMs) {
    ScheduledFuture<?> timer = channel.eventLoop().schedule(() -> {
      if (channel.attr(KEY).getAndSet(null) != null && channel.isActive()) {
        LOG.debug("closing {}: no complete request headers within {} ms", channel.remoteAddress(), timeoutMs);
        channel.close();
      }
    }, timeoutMs, TimeUnit.MILLISECONDS);
    channel.attr(KEY).set(timer);
    channel.closeFuture().addListener(closed -> met(channel));
  }

  /** A request's headers arrived on this connection (or it closed): the clock stops, if it still ran. */
  static void met(Channel channel) {
    ScheduledFuture<?> timer = channel.attr(KEY).getAndSet(null);
    if (timer != null) {
      timer.cancel(false);
    }
  }
}
