package io.reuseport.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * How one HTTP connection ended, for {@link ConnectionAdmission#closed}: the first handler of its pipeline, ahead of
 * TLS and Vert.x HTTP, so it sees the socket's own failures (a peer's reset is {@code ECONNRESET} on a read) before
 * Vert.x's handler takes them and closes the connection; {@link #serviceFailed} marks a failure here (the service
 * threw). Passes every event on unchanged. One per connection, touched only on its event loop.
 */
final class HttpConnectionEnding extends ChannelInboundHandlerAdapter {

  /** Its name in the pipeline. */
  static final String NAME = "ending";

  private ConnectionAdmission.Ending ending = ConnectionAdmission.Ending.CLEAN;

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // a reset can surface once per pending read and write: the first failure decides
    ending = ending.then(ConnectionAdmission.Ending.of(cause));
    ctx.fireExceptionCaught(cause);
  }

  /** The service failed while serving this connection. */
  void serviceFailed() {
    ending = ending.then(ConnectionAdmission.Ending.FAILED);
  }

  /** What ended the connection, once it is closed. */
  ConnectionAdmission.Ending ending() {
    return ending;
  }
}
