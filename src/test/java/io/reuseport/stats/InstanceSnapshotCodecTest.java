package io.reuseport.stats;

import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The snapshot travels the local event bus as the object itself, and registering its codec again (another instance,
 * a second server in the same Vertx) is harmless.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 10, timeUnit = TimeUnit.SECONDS)
class InstanceSnapshotCodecTest {

  @Test
  void aSnapshotArrivesAsTheSameObject(Vertx vertx, VertxTestContext test) {
    InstanceCounters counters = new InstanceCounters(3, "loop-3");
    counters.tcpAccepted = 7;
    counters.udpReplyDrops = 2;
    InstanceSnapshot sent = counters.snapshot();
    InstanceSnapshotCodec.registerOn(vertx.eventBus());
    InstanceSnapshotCodec.registerOn(vertx.eventBus());
    vertx.eventBus().<InstanceSnapshot>localConsumer("snapshots", msg -> test.verify(() -> {
      assertThat(msg.body()).isSameAs(sent);
      assertThat(msg.body().tcp().accepted()).isEqualTo(7);
      assertThat(msg.body().udp().replyDrops()).isEqualTo(2);
      test.completeNow();
    })).completion().onComplete(test.succeeding(v -> vertx.eventBus().publish("snapshots", sent)));
  }
}
