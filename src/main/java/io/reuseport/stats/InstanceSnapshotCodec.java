package io.reuseport.stats;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;

/**
 * Carries an {@link InstanceSnapshot} over the local event bus as the object itself: it is immutable, so receivers
 * on other event loops can share it; no copy, no JSON. The snapshots only ever travel inside one process (every
 * consumer is a {@code localConsumer}), so there is no wire form.
 */
final class InstanceSnapshotCodec implements MessageCodec<InstanceSnapshot, InstanceSnapshot> {

  private static final String NAME = "reuseport.instance-snapshot";
  private static final InstanceSnapshotCodec INSTANCE = new InstanceSnapshotCodec();

  private InstanceSnapshotCodec() {
  }

  /**
   * Makes {@link InstanceSnapshot} the event bus's default for snapshots. Idempotent: every instance calls it when
   * it starts (the instances start at once, on their own loops, and may deploy into a Vertx that hosted a server
   * before); the codec is stateless and the same object each time, so a concurrent second registration is harmless.
   */
  static void registerOn(EventBus bus) {
    try {
      bus.registerDefaultCodec(InstanceSnapshot.class, INSTANCE);
    } catch (IllegalStateException alreadyRegistered) {
      // by another instance of this process: the same codec
    }
  }

  @Override
  public InstanceSnapshot transform(InstanceSnapshot snapshot) {
    return snapshot;
  }

  @Override
  public void encodeToWire(Buffer buffer, InstanceSnapshot snapshot) {
    throw new UnsupportedOperationException("instance snapshots stay in their process: local event bus only");
  }

  @Override
  public InstanceSnapshot decodeFromWire(int pos, Buffer buffer) {
    throw new UnsupportedOperationException("instance snapshots stay in their process: local event bus only");
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
