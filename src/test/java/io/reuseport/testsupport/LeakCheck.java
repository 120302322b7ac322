package io.reuseport.testsupport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.List;

/**
 * Fails a test after which Netty's leak detector reports a buffer that was garbage-collected unreleased. Registered
 * for every test by auto-detection ({@code junit-platform.properties}, {@code META-INF/services}); the suite runs
 * the detector at {@code paranoid} (every buffer tracked, see the surefire configuration in {@code pom.xml}).
 *
 * <p>The detector reports a leak only when a later allocation finds its collected buffer in the reference queue, so
 * after each test this collects garbage and allocates a few tracked buffers, a bounded number of times.
 */
public final class LeakCheck implements AfterEachCallback {

  private static final int ROUNDS = 3;
  private static final int ALLOCATIONS = 16;

  @Override
  public void afterEach(ExtensionContext context) {
    if (ResourceLeakDetector.getLevel() == ResourceLeakDetector.Level.DISABLED) {
      return;
    }
    for (int round = 0; round < ROUNDS; round++) {
      System.gc();
      for (int i = 0; i < ALLOCATIONS; i++) {
        release(PooledByteBufAllocator.DEFAULT.directBuffer(1));
        release(Unpooled.directBuffer(1));
      }
    }
    List<String> leaks = LeakRecorder.drain();
    if (!leaks.isEmpty()) {
      throw new AssertionError(leaks.size() + " Netty buffer leak(s) reported after this test; the first:\n"
          + leaks.get(0));
    }
  }

  private static void release(ByteBuf buf) {
    buf.release();
  }
}
