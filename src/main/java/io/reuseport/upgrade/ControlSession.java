package io.reuseport.upgrade;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.PeerCredentials;
import io.netty.util.concurrent.ScheduledFuture;
import io.reuseport.netty.NettyFutures;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One connection on the control socket: a new process taking this one's sockets over (see {@link ControlProtocol}).
 * It acts only on {@code SEND} after the offer and {@code DRAIN} after the sockets, each within its deadline;
 * anything else ends the exchange with one log line, and nothing more is read from that peer. Control loop only.
 */
final class ControlSession extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);

  private final ControlServer control;
  private final ControlProtocol.Lines lines = new ControlProtocol.Lines();
  private Step step = Step.CONNECTED;
  private int pid;
  private ScheduledFuture<?> deadline;
  private Channel connection;

  ControlSession(ControlServer control) {
    this.control = control;
  }

  int pid() {
    return pid;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    connection = ctx.channel();
    PeerCredentials peer;
    try {
      peer = ((EpollDomainSocketChannel) ctx.channel()).peerCredentials();
    } catch (IOException e) {
      if (control.logBudget().allow()) {
        LOG.warn("control socket: cannot read the peer's credentials ({}); closing", e.toString());
      }
      end(ctx);
      return;
    }
    pid = peer.pid();
    if (peer.uid() != control.uid()) {
      if (control.logBudget().allow()) {
        LOG.warn("control socket: refused pid {} of UID {} (only UID {} may take over)", pid, peer.uid(),
            control.uid());
      }
      end(ctx);
      return;
    }
    if (!control.offering()) {
      end(ctx);
      return;
    }
    if (!control.admit(this)) {
      ctx.writeAndFlush(ControlProtocol.line(ControlProtocol.BUSY));
      end(ctx);
      return;
    }
    step = Step.OFFERED;
    if (control.logBudget().allow()) {
      LOG.info("control socket: pid {} connected to take over", pid);
    }
    List<Integer> tcp = control.server().tcpListenerFds();
    List<Integer> udp = control.server().udpSocketFds();
    ControlProtocol.Hello offer = new ControlProtocol.Hello(control.server().port(), tcp.size(), udp.size());
    ctx.writeAndFlush(ControlProtocol.line(offer.line()));
    limit(ctx, ControlServer.OFFER_TIMEOUT_MS, "no SEND");
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf buf = (ByteBuf) msg;
    try {
      if (step == Step.OFFERED || step == Step.PASSED) {
        lines.feed(buf, line -> onLine(ctx, line));
      }
    } catch (RuntimeException e) {
      refuse(ctx, e.getMessage());
    } finally {
      buf.release();
    }
  }

  private void onLine(ChannelHandlerContext ctx, String line) {
    if (step != Step.OFFERED && step != Step.PASSED) {
      return;
    }
    if (step == Step.OFFERED && ControlProtocol.SEND.equals(line)) {
      // from here on, another process may hold these sockets: they are never changed on the way out
      control.server().shareSockets();
      List<Integer> all = new ArrayList<>(control.server().tcpListenerFds());
      all.addAll(control.server().udpSocketFds());
      for (int fd : all) {
        // a FileDescriptor message is sent with SCM_RIGHTS: the peer gets its own descriptor of the same socket
        ctx.write(new FileDescriptor(fd));
      }
      ctx.flush();
      step = Step.PASSED;
      if (control.logBudget().allow()) {
        LOG.info("control socket: passed {} sockets to pid {}; waiting up to {} s for it to be ready", all.size(),
            pid, ControlServer.READY_TIMEOUT_MS / 1000);
      }
      limit(ctx, ControlServer.READY_TIMEOUT_MS, "not ready");
    } else if (step == Step.PASSED && ControlProtocol.DRAIN.equals(line)) {
      step = Step.HANDING_OVER;
      deadline.cancel(false);
      LOG.info("control socket: pid {} is ready; handing over and draining", pid);
      // off the loops and our descriptors closed first (the sockets live on in the new process), then give up
      // the path, then say so by closing the connection
      control.handOver().onComplete(v -> {
        ctx.close();
        control.handedOver();
      });
    } else {
      String expected = step == Step.OFFERED ? ControlProtocol.SEND : ControlProtocol.DRAIN;
      throw new IllegalStateException("expected " + expected + ", got '" + ControlProtocol.shown(line) + "'");
    }
  }

  private void limit(ChannelHandlerContext ctx, long ms, String what) {
    if (deadline != null) {
      deadline.cancel(false);
    }
    deadline = ctx.executor().schedule(() -> refuse(ctx, what + " within " + ms / 1000 + " s"), ms,
        TimeUnit.MILLISECONDS);
  }

  /** Ends an exchange that went wrong: one line, and nothing more is read from this peer. */
  private void refuse(ChannelHandlerContext ctx, String reason) {
    if (step != Step.OFFERED && step != Step.PASSED) {
      return;
    }
    Step was = step;
    step = Step.ENDED;
    if (control.logBudget().allow()) {
      LOG.warn("control socket: takeover by pid {} refused: {}; {}", pid, reason, stillServing(was));
    }
    end(ctx);
  }

  /** The old process stops offering takeovers (it drains): an exchange in progress ends here. */
  Future<Void> stop(String reason) {
    if (step != Step.OFFERED && step != Step.PASSED) {
      return Future.succeededFuture();
    }
    LOG.info("control socket: ending the takeover by pid {}: {}", pid, reason);
    step = Step.ENDED;
    return NettyFutures.close(connection);
  }

  private void end(ChannelHandlerContext ctx) {
    ctx.channel().config().setAutoRead(false);
    ctx.close();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (deadline != null) {
      deadline.cancel(false);
    }
    if (step == Step.OFFERED || step == Step.PASSED) {
      if (control.logBudget().allow()) {
        LOG.warn("control socket: takeover by pid {} abandoned: it left before it was ready; {}", pid,
            stillServing(step));
      }
      step = Step.ENDED;
    }
    control.ended(this);
  }

  private String stillServing(Step was) {
    return control.offering() ? "still serving" + (was == Step.PASSED ? " (with the sockets it was passed)" : "")
        + ", ready for another takeover" : "draining";
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof IOException) {
      // the peer went away (a reset, typically a process that died or closed with unread data): the close that
      // follows logs the exchange as abandoned
      ctx.close();
    } else if (step == Step.OFFERED || step == Step.PASSED) {
      refuse(ctx, cause.toString());
    } else {
      ctx.close();
    }
  }

  private enum Step { CONNECTED, OFFERED, PASSED, HANDING_OVER, ENDED }
}
