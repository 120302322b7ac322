package io.reuseport.server;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.unix.Errors;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.SocketException;
import java.util.concurrent.CompletionException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What counts as the peer's reset and what as a failure here, for each transport's way of saying it: the native
 * transports' errno, the JDK's message on NIO (which the socket tests, on epoll, do not reach). The controls:
 * other errnos and other messages are failures.
 */
class PeerResetTest {

  /** Linux's ETIMEDOUT: a dead peer, not a reset. */
  private static final int ETIMEDOUT_NEGATIVE = -110;

  @Test
  void theNativeTransportsResetAndBrokenPipeArePeerResets() {
    // the errno constants come from the native library
    Epoll.ensureAvailability();
    assertThat(PeerReset.is(Errors.newIOException("readAddress", Errors.ERRNO_ECONNRESET_NEGATIVE))).isTrue();
    assertThat(PeerReset.is(Errors.newIOException("writeAddress", Errors.ERRNO_EPIPE_NEGATIVE))).isTrue();
    assertThat(PeerReset.is(Errors.newIOException("readAddress", ETIMEDOUT_NEGATIVE))).isFalse();
  }

  @Test
  void nioSaysItInTheMessage() {
    assertThat(PeerReset.is(new SocketException("Connection reset"))).isTrue();
    assertThat(PeerReset.is(new SocketException("Connection reset by peer"))).isTrue();
    assertThat(PeerReset.is(new IOException("Broken pipe", new SocketException("Broken pipe")))).isTrue();
    assertThat(PeerReset.is(new SocketException("Network is unreachable"))).isFalse();
    assertThat(PeerReset.is(new SocketException((String) null))).isFalse();
  }

  @Test
  void anythingElseIsAFailureHere() {
    assertThat(PeerReset.is(new IllegalStateException("Connection reset"))).isFalse();
    assertThat(PeerReset.is(new CompletionException(new IllegalStateException("boom")))).isFalse();
    assertThat(PeerReset.is(null)).isFalse();
  }
}
