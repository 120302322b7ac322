package io.reuseport.server;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;

/**
 * How one HTTP connection ended, for {@link ConnectionAdmission#closed}, and when it was last active, for the
 * instance's {@link IdleSweeper}: the first handler of its pipeline, ahead of TLS and Vert.x HTTP, so it sees the
 * socket's own failures (a peer's reset is {@code ECONNRESET} on a read) before Vert.x's handler takes them and
 * closes the connection, and every read and write of the socket, whatever the protocol on it (HTTP/1.x, HTTP/2,
 * WebSocket). {@link #serviceFailed} marks a failure here (the service threw). Passes every event on unchanged. One
 * per connection, touched only on its event loop.
 *
 * <p>The sweeper replaces Vert.x's idle timeout ({@code HttpServerOptions.setIdleTimeout}, a Netty
 * {@code IdleStateHandler} per connection), which costs a scheduled task per connection and, as it watches writes,
 * a promise and two listeners per write; both close the connection when it neither read nor wrote for the timeout.
 */
final class HttpConnectionEnding extends ChannelDuplexHandler implements IdleSweeper.Activity {

  /** Its name in the pipeline. */
  static final String NAME = "ending";

  private final IdleSweeper idle;
  private ConnectionAdmission.Ending ending = ConnectionAdmission.Ending.CLEAN;
  private long lastActiveTick;

  HttpConnectionEnding(IdleSweeper idle) {
    this.idle = idle;
    this.lastActiveTick = idle.tick();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    lastActiveTick = idle.tick();
    ctx.fireChannelRead(msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    lastActiveTick = idle.tick();
    ctx.write(msg, promise);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // a reset can surface once per pending read and write: the first failure decides
    ending = ending.then(ConnectionAdmission.Ending.of(cause));
    ctx.fireExceptionCaught(cause);
  }

  @Override
  public long lastActiveTick() {
    return lastActiveTick;
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
