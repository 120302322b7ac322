package io.reuseport.stats;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The typed snapshots become the {@code /stats} JSON in one place: per instance, totals, kernel drops by socket.
 */
class StatsReportTest {

  @Test
  void snapshotsBecomeInstancesAndTotals() {
    InstanceSnapshot first = new InstanceSnapshot(0, "loop-0", 11, false,
        new InstanceSnapshot.TcpCounts(5, 1, 4, 2, 100, 90, 1, 3, 2),
        new InstanceSnapshot.UdpCounts(6, 5, 60, 50, 1, 1), InstanceSnapshot.HttpCounts.ZERO);
    PortGroup group = new PortGroup(2, 2, 0, 0, Map.of(11, 4L));
    JsonObject report = StatsReport.build(new StatsCollectorOptions(2, "epoll", "reuseport", 0, 1_000, 0.5, 100, false),
        new InstanceSnapshot[] {first, null}, new long[] {10, 0}, new Rates[2], group, Fairness.of(new long[0]),
        Fairness.of(new long[0]), Fairness.of(new long[0]), List.of(1), 1_000);

    JsonObject one = report.getJsonArray("instances").getJsonObject(0);
    assertThat(one.getString("eventLoop")).isEqualTo("loop-0");
    assertThat(one.getJsonObject("tcp")).isEqualTo(new JsonObject().put("accepted", 5L).put("active", 1L)
        .put("closed", 4L).put("rejected", 2L).put("bytesIn", 100L).put("bytesOut", 90L).put("errors", 1L)
        .put("acceptFailures", 3L).put("resets", 2L));
    assertThat(one.getJsonObject("udp")).isEqualTo(new JsonObject().put("datagramsIn", 6L).put("datagramsOut", 5L)
        .put("bytesIn", 60L).put("bytesOut", 50L).put("errors", 1L).put("replyDrops", 1L).put("drops", 4L));
    assertThat(one.getJsonObject("rates")).isEqualTo(new JsonObject());

    JsonObject silent = report.getJsonArray("instances").getJsonObject(1);
    assertThat(silent.getValue("eventLoop")).isNull();
    assertThat(silent.getValue("ageMs")).isNull();
    assertThat(silent.getBoolean("stale")).isTrue();
    assertThat(silent.getJsonObject("tcp").getLong("accepted")).isZero();

    JsonObject totals = report.getJsonObject("totals");
    assertThat(totals.getJsonObject("tcp")).isEqualTo(one.getJsonObject("tcp"));
    assertThat(totals.getJsonObject("udp")).isEqualTo(one.getJsonObject("udp"));
    assertThat(report.getJsonObject("fairness").getJsonObject("tcpAccepted").getLong("sample")).isEqualTo(5);
  }
}
