package io.reuseport.server;

import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.reuseport.stats.InstanceCounters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * Sits in a TCP listener's own pipeline and takes the errors of {@code accept()} (EMFILE at the file descriptor
 * limit, ENFILE, ENOBUFS): counts each, logs one line when a run of failures starts and one when accepts succeed
 * again, and pauses accepting briefly so that a listener whose queue cannot be drained does not spin. The
 * connection that could not be accepted stays in the kernel's queue. Without this handler Netty logs a generic
 * "reached the tail of the pipeline" warning per attempt and nothing is counted. On the listener's loop only.
 */
final class AcceptFailures extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(AcceptFailures.class);
  /** How long accepting pauses after a failure (Netty's own acceptor pauses 1 s; shorter recovers sooner). */
  static final long PAUSE_MS = 200;

  private final InstanceCounters counters;
  private boolean failing;
  private long failuresInEpisode;
  private long episodeStartNanos;

  AcceptFailures(InstanceCounters counters) {
    this.counters = counters;
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    counters.tcpAcceptFailures++;
    failuresInEpisode++;
    ChannelConfig config = ctx.channel().config();
    if (config.isAutoRead()) {
      config.setAutoRead(false);
      ctx.channel().eventLoop().schedule(() -> config.setAutoRead(true), PAUSE_MS, TimeUnit.MILLISECONDS);
    }
    if (!failing) {
      failing = true;
      episodeStartNanos = System.nanoTime();
      LOG.warn("instance {}: accept() on {} failed: {} (file descriptor {}); connections wait in the kernel's"
          + " queue; counted in /stats tcp.acceptFailures, logged again when accepts succeed", counters.instanceId,
          ctx.channel().localAddress(), cause.getMessage(), FdBudget.describeLimit());
    }
  }

  /** An accept succeeded: ends a run of failures. */
  void accepted() {
    if (failing) {
      failing = false;
      LOG.info("instance {}: accepting again after {} failed accept() call{} over {} ms", counters.instanceId,
          failuresInEpisode, failuresInEpisode == 1 ? "" : "s",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - episodeStartNanos));
      failuresInEpisode = 0;
    }
  }
}
