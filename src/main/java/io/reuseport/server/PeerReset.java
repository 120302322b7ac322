package io.reuseport.server;

import io.netty.channel.unix.Errors;

import java.net.SocketException;

/**
 * Tells a peer's reset from a failure of this server. A client that closes with {@code SO_LINGER} 0 (HAProxy's
 * health checks, many cloud load balancers, benchmark clients that avoid TIME_WAIT) makes the next read or write
 * fail with {@code ECONNRESET}, or {@code EPIPE} once the reset was reported: that is how the peer closed, counted
 * {@code resets}, not {@code errors}.
 */
final class PeerReset {

  /** How the JDK's NIO transport words them (it has no errno). */
  private static final String[] NIO_MESSAGES = {"Connection reset", "Broken pipe"};

  private PeerReset() {
  }

  /** Whether {@code cause} (or what it wraps) is the peer's reset. */
  static boolean is(Throwable cause) {
    for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
      // the native transports (epoll, io_uring) carry the errno; only they load the class that names it
      if (t instanceof Errors.NativeIoException e) {
        return e.expectedErr() == Errors.ERRNO_ECONNRESET_NEGATIVE || e.expectedErr() == Errors.ERRNO_EPIPE_NEGATIVE;
      }
      if (t instanceof SocketException && t.getMessage() != null) {
        for (String message : NIO_MESSAGES) {
          if (t.getMessage().startsWith(message)) {
            return true;
          }
        }
      }
    }
    return false;
  }
}
