package io.reuseport.server;

import io.netty.channel.Channel;
import io.netty.channel.unix.Socket;
import io.netty.channel.unix.UnixChannel;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Closes a UDP socket of a reuseport group without dropping what another member could have received. Closing drops
 * the socket's queue ({@code tcp_migrate_req} is TCP only), but the kernel picks a connected member of a group only
 * for datagrams from its own peer: connecting the socket to a port that sends nothing takes it out of the choice for
 * every client, while what is already queued on it is still read and answered. Once it is read dry, it closes.
 * Only for a socket no other process holds: connecting changes the socket for every holder (see
 * {@code RunningServer#shareSockets}).
 */
final class UdpRetirement {

  private static final Logger LOG = LoggerFactory.getLogger(UdpRetirement.class);
  /** A retired socket serves its queue for at least this long... */
  static final long MIN_MS = 100;
  /** ...and at most this long. */
  static final long MAX_MS = 2_000;
  private static final long CHECK_MS = 20;
  /** The discard port: nothing sends from it, so a socket connected to it receives nothing new. */
  private static final int DISCARD_PORT = 9;

  private UdpRetirement() {
  }

  /**
   * @param reads datagrams read so far by the socket's handler, read on the socket's own loop
   */
  static Future<Void> retire(Channel channel, LongSupplier reads) {
    if (!(channel instanceof UnixChannel) || !channel.isOpen()) {
      return Drain.close(channel);
    }
    InetSocketAddress local = (InetSocketAddress) channel.localAddress();
    InetAddress peer = local.getAddress().isAnyLocalAddress() ? InetAddress.getLoopbackAddress() : local.getAddress();
    try {
      // a raw connect behind Netty's back: the channel keeps reading with recvfrom and answering each sender
      new Socket(((UnixChannel) channel).fd().intValue()).connect(new InetSocketAddress(peer, DISCARD_PORT));
    } catch (IOException e) {
      LOG.debug("cannot retire UDP socket {} before closing it: {}", local, e.toString());
      return Drain.close(channel);
    }
    return quiet(channel, reads).transform(v -> Drain.close(channel));
  }

  /** The peer a UDP socket is connected to (behind Netty's back or not), or null when it is not connected. */
  static InetSocketAddress connectedPeer(Channel channel) {
    if (!(channel instanceof UnixChannel) || !channel.isOpen()) {
      return null;
    }
    return new Socket(((UnixChannel) channel).fd().intValue()).remoteAddress();
  }

  /**
   * Completes when no datagram was read between two checks on the socket's own loop (so a busy or starved loop
   * makes it wait, not drop), at least {@value #MIN_MS} ms and at most {@value #MAX_MS} ms after the retire.
   */
  private static Future<Void> quiet(Channel channel, LongSupplier reads) {
    Promise<Void> promise = Promise.promise();
    long start = System.nanoTime();
    channel.eventLoop().schedule(new Runnable() {
      private long seen = -1;

      @Override
      public void run() {
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        long read = reads.getAsLong();
        if ((read == seen && elapsedMs >= MIN_MS) || elapsedMs >= MAX_MS) {
          promise.tryComplete();
        } else {
          seen = read;
          channel.eventLoop().schedule(this, CHECK_MS, TimeUnit.MILLISECONDS);
        }
      }
    }, CHECK_MS, TimeUnit.MILLISECONDS);
    return promise.future();
  }
}
