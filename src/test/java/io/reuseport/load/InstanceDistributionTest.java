package io.reuseport.load;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class InstanceDistributionTest {

  @Test
  void jainIsOneWhenEvenAndOneOverNWhenAllOnOne() {
    assertThat(InstanceDistribution.jain(new long[] {5, 5, 5, 5})).isEqualTo(1.0);
    assertThat(InstanceDistribution.jain(new long[] {8, 0, 0, 0})).isEqualTo(0.25);
    assertThat(InstanceDistribution.jain(new long[] {100, 50})).isCloseTo(0.9, within(1e-12));
    assertThat(InstanceDistribution.jain(new long[] {0, 0})).isNaN();
    assertThat(InstanceDistribution.jain(new long[0])).isNaN();
  }

  @Test
  void deltasPerInstanceOrderedById() {
    InstanceDistribution d = InstanceDistribution.between("tcp.accepted",
        Map.of("0", 10L, "1", 20L, "10", 0L), Map.of("10", 7L, "1", 70L, "0", 110L, "2", 3L));
    assertThat(d.instances()).extracting(InstanceDistribution.Share::id).containsExactly("0", "1", "2", "10");
    assertThat(d.instances()).extracting(InstanceDistribution.Share::delta).containsExactly(100L, 50L, 3L, 7L);
    assertThat(d.total()).isEqualTo(160);
  }

  @Test
  void aRestartedCounterCountsFromZero() {
    InstanceDistribution d = InstanceDistribution.between("udp.datagramsIn", Map.of("0", 500L), Map.of("0", 20L));
    assertThat(d.instances().get(0).delta()).isEqualTo(20);
  }

  @Test
  void readsCountersFromTheStatsShape() {
    JsonObject stats = new JsonObject("""
        {"transport":"epoll","balancing":"reuseport","port":9000,
         "instances":[
           {"id":0,"eventLoop":"l0","tcp":{"accepted":12,"active":1,"closed":11,"rejected":0,"bytesIn":1,
             "bytesOut":1,"errors":0},"udp":{"datagramsIn":40,"datagramsOut":40,"bytesIn":1,"bytesOut":1,
             "errors":0},"ageMs":5},
           {"id":1,"eventLoop":"l1","tcp":{"accepted":30},"udp":{},"ageMs":5}],
         "totals":{},"fairness":{},"group":{}}""");
    assertThat(AdminStatsProbe.counters(stats, LoadMode.TCP_CHURN)).containsExactly(
        Map.entry("0", 12L), Map.entry("1", 30L));
    assertThat(AdminStatsProbe.counters(stats, LoadMode.UDP_ECHO)).containsExactly(
        Map.entry("0", 40L), Map.entry("1", 0L));
  }
}
