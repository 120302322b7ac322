package io.reuseport.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.vertx.core.Future;
import io.vertx.core.Promise;

/**
 * Netty futures as Vert.x futures, for code that works on Netty channels directly (the server's drain, the control
 * socket, the load client). The Vert.x future completes on the thread that completes the Netty one, with no Vert.x
 * context: where callbacks must run on a verticle's context, complete a context promise instead (as
 * {@link ReusePortBinder} does).
 */
public final class NettyFutures {

  private NettyFutures() {
  }

  /** Completes with the Netty future's value, or fails with its cause. */
  public static <T> Future<T> of(io.netty.util.concurrent.Future<T> netty) {
    Promise<T> promise = Promise.promise();
    netty.addListener(f -> {
      if (f.isSuccess()) {
        promise.tryComplete(netty.getNow());
      } else {
        promise.tryFail(f.cause());
      }
    });
    return promise.future();
  }

  /** Completes with the future's channel (bound, connected, registered), or fails with its cause. */
  public static Future<Channel> channel(ChannelFuture netty) {
    return of(netty).map(v -> netty.channel());
  }

  /** Closes a channel, or nothing when it is null; completes once it is closed and never fails. */
  public static Future<Void> close(Channel channel) {
    if (channel == null) {
      return Future.succeededFuture();
    }
    Promise<Void> closed = Promise.promise();
    channel.close().addListener(f -> closed.tryComplete());
    return closed.future();
  }
}
