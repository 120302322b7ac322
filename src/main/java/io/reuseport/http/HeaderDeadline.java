package io.reuseport.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * The header timeout of one connection, as nginx's {@code client_header_timeout}: a request's head must be complete
 * within the timeout of its first byte, so that a client that trickles its headers (slowloris) or sends nothing
 * cannot hold a connection, up to the cap, for as long as the idle timeout (Vert.x has no such timeout; its idle
 * timeout is reset by every byte).
 *
 * <p>When the clock runs, on HTTP/1.x:
 * <ul>
 *   <li>from accept to the first request's head (its TLS handshake included);</li>
 *   <li>from the first read after a response ended to the next request's head. Between the two a silent keep-alive
 *   connection is governed by the idle timeout alone. Bytes read while a request is in progress (its body, or
 *   requests pipelined behind it) start no clock; a pipelined head that is still incomplete when the response
 *   ends is timed from the next read after that.</li>
 * </ul>
 * HTTP/2 (its first request's head met), a WebSocket ({@code 101}) and a connection that became a {@code NetSocket}
 * are not timed after their first request.
 *
 * <p>Cheap by design: no timer per connection or request. Each connection holds its deadline as a long in ticks of
 * its loop's {@link Sweeper}, which ticks every eighth of the timeout and closes the connections whose deadline has
 * passed: a connection is closed between the timeout and the timeout plus one tick after its clock started. Runs on
 * the connection's loop (one handler per connection, ahead of TLS and HTTP, seeing every read as it arrives).
 */
final class HeaderDeadline extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(HeaderDeadline.class);
  /** Its name in the pipeline. */
  static final String NAME = "reuseport-header-deadline";
  /** The deadline of a connection whose clock does not run. */
  private static final long NONE = Long.MAX_VALUE;

  private final Sweeper sweeper;
  private ChannelHandlerContext ctx;
  private long deadlineTick;
  /** The response to the request in progress (HTTP/1.x), until a read after its end starts the clock again. */
  private HttpServerResponse inProgress;

  private HeaderDeadline(Sweeper sweeper) {
    this.sweeper = sweeper;
    this.deadlineTick = sweeper.deadline();
  }

  /** Adds the deadline of a connection just accepted to its pipeline: its clock starts now. */
  static void arm(Channel channel, Sweeper sweeper) {
    HeaderDeadline deadline = new HeaderDeadline(sweeper);
    channel.pipeline().addLast(NAME, deadline);
    sweeper.watched.add(deadline);
  }

  /**
   * A request's head arrived on this connection: the clock stops; on HTTP/1.x it starts again at the first read
   * after {@code request}'s response ends.
   */
  static void met(Channel channel, HttpServerRequest request, boolean http1) {
    if (channel.pipeline().get(NAME) instanceof HeaderDeadline deadline) {
      deadline.deadlineTick = NONE;
      deadline.inProgress = http1 ? request.response() : null;
    }
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    HttpServerResponse previous = inProgress;
    if (previous != null && previous.ended()) {
      inProgress = null;
      if (previous.getStatusCode() != 101) {
        deadlineTick = sweeper.deadline();
      }
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closed();
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    closed();
  }

  /** Forgets the connection (the sweeper drops this deadline at its next pass). */
  private void closed() {
    deadlineTick = NONE;
    inProgress = null;
    ctx = null;
  }

  /**
   * The clock of one event loop's connections: one periodic timer for all of them, ticking every eighth of the
   * header timeout. Runs on that loop, as do its connections.
   */
  static final class Sweeper {

    static final int TICKS_PER_TIMEOUT = 8;

    private final List<HeaderDeadline> watched = new ArrayList<>();
    private final long timeoutMs;
    private long tick;
    private long timerId;

    /** Starts ticking on the calling verticle's context. */
    Sweeper(Vertx vertx, long timeoutMs) {
      this.timeoutMs = timeoutMs;
      this.timerId = vertx.setPeriodic(periodMs(timeoutMs), id -> sweep());
    }

    /** The sweep period for a header timeout of {@code timeoutMs}. */
    static long periodMs(long timeoutMs) {
      return Math.max(1, timeoutMs / TICKS_PER_TIMEOUT);
    }

    void stop(Vertx vertx) {
      vertx.cancelTimer(timerId);
    }

    /** The deadline of a clock started now: the timeout, rounded up to a whole tick. */
    private long deadline() {
      return tick + TICKS_PER_TIMEOUT + 1;
    }

    /** Closes the connections whose deadline passed and drops the closed ones from the list, in one pass. */
    private void sweep() {
      tick++;
      List<ChannelHandlerContext> late = null;
      int kept = 0;
      for (int i = 0; i < watched.size(); i++) {
        HeaderDeadline d = watched.get(i);
        if (d.ctx == null) {
          continue;
        }
        if (d.deadlineTick <= tick) {
          if (late == null) {
            late = new ArrayList<>();
          }
          late.add(d.ctx);
          d.closed();
          continue;
        }
        watched.set(kept++, d);
      }
      watched.subList(kept, watched.size()).clear();
      if (late != null) {
        for (ChannelHandlerContext c : late) {
          LOG.debug("closing {}: no complete request head within {} ms of its first byte", c.channel().remoteAddress(),
              timeoutMs);
          c.channel().close();
        }
      }
    }
  }
}
