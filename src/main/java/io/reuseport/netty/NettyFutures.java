package io.reuseport.netty;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.vertx.core.Future;
import io.vertx.core.Promise;

/**
 * Netty futures as Vert.x futures: the one adapter between the two, for code that works on Netty channels directly
 * (the server's binder and drain, the control socket, the load client).
 *
 * <p>The Vert.x future completes on the thread that completes the Netty one. Without a promise of the caller's, it
 * has no Vert.x context, so its callbacks run on that thread; where they must run on a verticle's context, pass a
 * promise of that context ({@code ContextInternal.promise()}), as the server's binder does.
 */
public final class NettyFutures {

  private NettyFutures() {
  }

  /** Completes with the Netty future's value, or fails with its cause. */
  public static <T> Future<T> of(io.netty.util.concurrent.Future<T> netty) {
    return of(netty, Promise.promise());
  }

  /** Completes {@code promise} with the Netty future's value, or fails it with its cause; returns its future. */
  public static <T> Future<T> of(io.netty.util.concurrent.Future<T> netty, Promise<T> promise) {
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
    return channel(netty, Promise.promise());
  }

  /** Completes {@code promise} with the future's channel, or fails it with its cause; returns its future. */
  public static Future<Channel> channel(ChannelFuture netty, Promise<Channel> promise) {
    netty.addListener(f -> {
      if (f.isSuccess()) {
        promise.tryComplete(netty.channel());
      } else {
        promise.tryFail(f.cause());
      }
    });
    return promise.future();
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
