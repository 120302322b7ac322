package io.reuseport.server;

import io.netty.channel.Channel;

/**
 * Makes an epoll server channel look at its accept queue again. Requests that the kernel migrated to a listener
 * when another listener of the group closed (the BPF selector's {@code SELECT_OR_MIGRATE}) were queued without waking
 * its epoll waiters on kernels before the 2026 fix (CVE-2026-46015); with Netty's edge-triggered epoll they would
 * sit there until the next SYN. {@code channel.read()} does nothing on a channel that already reads, so this clears
 * and sets {@code EPOLLIN} again (auto-read off, on): the {@code EPOLL_CTL_MOD} makes the kernel poll the socket,
 * and a non-empty accept queue is reported at once, so the channel's accept loop runs.
 */
final class AcceptPass {

  /** How often an instance checks its listeners while the BPF selector steers. */
  static final long PERIOD_MS = 1_000;

  private AcceptPass() {
  }

  /** On the listener's own loop; nothing for a closed listener or one that was paused on purpose. */
  static void run(Channel listener) {
    if (listener.eventLoop().inEventLoop()) {
      rearm(listener);
    } else {
      listener.eventLoop().execute(() -> rearm(listener));
    }
  }

  private static void rearm(Channel listener) {
    if (!listener.isOpen() || !listener.config().isAutoRead()) {
      return;
    }
    listener.config().setAutoRead(false);
    listener.config().setAutoRead(true);
  }
}
