package io.reuseport.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Closes one instance's idle connections with one periodic timer for all of them, instead of a Netty
 * {@code IdleStateHandler} per connection (a handler, its pipeline context and a scheduled task added to and
 * removed from the loop's queue for each, and a clock read per read and write: about 3 % of the server's CPU per
 * connection under churn; see bench/ANALYSIS.md).
 *
 * <p>Time is counted in ticks of an eighth of the timeout: a connection notes the current tick when it reads or
 * writes, and a sweep closes those that have not for more than {@value #TICKS_PER_TIMEOUT} ticks. An idle connection
 * is therefore closed between the timeout and 1.125 times the timeout after its last read or write. Runs on the
 * instance's event loop, as do the connections. Byte connections ({@link TcpConnectionHandler}) and HTTP connections
 * ({@link HttpConnectionEnding}) note their ticks alike.
 */
final class IdleSweeper {

  /** The handler of a connection that notes the tick of its last read or write. */
  interface Activity extends ChannelHandler {
    long lastActiveTick();
  }

  private static final Logger LOG = LoggerFactory.getLogger(IdleSweeper.class);
  static final int TICKS_PER_TIMEOUT = 8;

  private final Set<Channel> open;
  private long tick;
  private long timerId = -1;

  /** @param open the instance's open connections, each with an {@link Activity} handler */
  IdleSweeper(Set<Channel> open) {
    this.open = open;
  }

  /** The current tick, for a connection to note when it was last active. */
  long tick() {
    return tick;
  }

  /** Starts sweeping on the calling verticle's context; does nothing for a timeout of 0 (never idle). */
  void start(Vertx vertx, int timeoutSeconds) {
    if (timeoutSeconds > 0) {
      long intervalMs = Math.max(1, timeoutSeconds * 1000L / TICKS_PER_TIMEOUT);
      timerId = vertx.setPeriodic(intervalMs, id -> sweep());
    }
  }

  void stop(Vertx vertx) {
    if (timerId >= 0) {
      vertx.cancelTimer(timerId);
      timerId = -1;
    }
  }

  private void sweep() {
    tick++;
    List<Channel> idle = new ArrayList<>();
    for (Channel ch : open) {
      Activity handler = ch.pipeline().get(Activity.class);
      if (handler != null && tick - handler.lastActiveTick() > TICKS_PER_TIMEOUT) {
        idle.add(ch);
      }
    }
    for (Channel ch : idle) {
      LOG.debug("closing idle connection {}", ch.remoteAddress());
      ch.close();
    }
  }
}
