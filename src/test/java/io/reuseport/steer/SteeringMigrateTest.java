package io.reuseport.steer;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.reuseport.config.ConfigLoader;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.Socket;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

// Blocking by design: raw listeners and clients; what is tested is what the kernel does with a closing queue.
/**
 * What the server itself loads: {@link Steering#prepare} (the server's own call) and {@link Steering#start} on two
 * {@link RawSockets} instances, connections queued on both listeners and never accepted, then instance 0's listener
 * closed with {@code net.ipv4.tcp_migrate_req=0}. The selector as the server loads it moves every queued connection
 * to instance 1: it is {@code SELECT_OR_MIGRATE}. Where the kernel refuses that attach type (before Linux 5.14: the
 * test hands {@code prepare} a loader that refuses it with EINVAL, the package-private
 * {@link Steering.SelectorLoader} seam), the server warns, loads plain {@code SELECT} and still steers, and then
 * instance 0's queue is lost: the control, so that the first case can fail. Root only.
 */
@Timeout(60)
class SteeringMigrateTest {

  private static final int QUEUED = 50;
  /** The watchdog must not act during the test (nothing stamps the heartbeats): the longest threshold allowed. */
  private static final int STALL_THRESHOLD_MS = 60_000;

  private final Logger steeringLog = (Logger) LoggerFactory.getLogger(Steering.class);
  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();

  @BeforeEach
  void rootOnly() throws IOException {
    Assumptions.assumeTrue(RawSockets.isRoot(), "skipped: the BPF selector needs root (CAP_BPF) to load");
    Assumptions.assumeFalse(RawSockets.kernelMigratesWithoutSelector(),
        "skipped: net.ipv4.tcp_migrate_req is not 0 here, so the kernel would migrate without the selector");
    logged.start();
    steeringLog.addAppender(logged);
  }

  @AfterEach
  void detachLog() {
    steeringLog.detachAppender(logged);
  }

  @Test
  void theServerLoadsTheSelectorAsSelectOrMigrate() throws Exception {
    Steering steering = Steering.prepare(config());
    assertThat(acceptedByInstance1AfterInstance0Closed(steering)).as("queued connections instance 1 accepted after"
        + " instance 0's listener closed").isEqualTo(QUEUED);
    assertThat(warnings()).isEmpty();
  }

  @Test
  void anHttpServersGroupWithoutUdpSocketsMigratesToo() throws Exception {
    // HTTP instances bind no UDP socket: the selector gets -1 for theirs and attaches to the TCP group only
    Steering steering = Steering.prepare(config());
    assertThat(acceptedByInstance1AfterInstance0Closed(steering, false)).as("queued connections instance 1 accepted"
        + " after instance 0's listener closed").isEqualTo(QUEUED);
    assertThat(warnings()).isEmpty();
  }

  @Test
  void whereTheKernelRefusesSelectOrMigrateItLoadsSelectAndWarns() throws Exception {
    Steering steering = Steering.prepare(config(), (instances, flowIdleSeconds, migrate) -> {
      if (migrate) {
        // what bpf(BPF_PROG_LOAD) answers before Linux 5.14, which knows no expected_attach_type 40
        throw new BpfException("bpf(BPF_PROG_LOAD rp_selector): " + Bpf.describe(22), 22);
      }
      return Selector.load(instances, flowIdleSeconds, false);
    });
    int accepted = acceptedByInstance1AfterInstance0Closed(steering);
    assertThat(warnings()).singleElement().asString()
        .contains("cannot load the selector as SELECT_OR_MIGRATE (bpf(BPF_PROG_LOAD rp_selector): EINVAL")
        .contains("loaded as SELECT: a closing listener's queued connections are reset unless"
            + " net.ipv4.tcp_migrate_req=1");
    assertThat(accepted).as("queued connections instance 1 accepted after instance 0's listener closed: plain SELECT"
        + " loses instance 0's share").isLessThan(QUEUED);
  }

  private static io.reuseport.config.ServerConfig config() {
    return ConfigLoader.fromJson(new JsonObject().put("host", "127.0.0.1").put("port", 0).put("instances", 2)
        .put("steering", "bpf").put("stallThresholdMs", STALL_THRESHOLD_MS));
  }

  /**
   * Starts {@code steering} on two instances' raw sockets, queues {@link #QUEUED} connections (the table spreads them
   * over both), closes instance 0's listener: how many instance 1 then accepts.
   */
  private static int acceptedByInstance1AfterInstance0Closed(Steering steering) throws Exception {
    return acceptedByInstance1AfterInstance0Closed(steering, true);
  }

  /** @param udp whether the instances have UDP sockets (byte services) or not (HTTP services: -1 for each) */
  private static int acceptedByInstance1AfterInstance0Closed(Steering steering, boolean udp) throws Exception {
    int tcp0 = RawSockets.listener(0, QUEUED * 2);
    int port = RawSockets.portOf(tcp0);
    int tcp1 = RawSockets.listener(port, QUEUED * 2);
    int udp0 = udp ? RawSockets.udpSocket(port) : -1;
    int udp1 = udp ? RawSockets.udpSocket(port) : -1;
    List<Socket> clients = List.of();
    boolean closed0 = false;
    try {
      steering.start(List.of(new int[] {tcp0, udp0}, new int[] {tcp1, udp1}));
      assertThat(steering.active()).as("steering: %s", steering.toJson()).isTrue();
      assertThat(steering.toJson().getJsonArray("instances").getJsonObject(0).getDouble("tableShare"))
          .as("instance 0's share of the table").isGreaterThan(0.0);
      clients = RawSockets.connect(port, QUEUED);
      RawSockets.close(tcp0);
      closed0 = true;
      return RawSockets.acceptAll(tcp1);
    } finally {
      steering.close();
      if (!closed0) {
        RawSockets.close(tcp0);
      }
      RawSockets.closeAll(clients);
      RawSockets.close(tcp1);
      if (udp) {
        RawSockets.close(udp0);
        RawSockets.close(udp1);
      }
    }
  }

  private List<String> warnings() {
    return logged.list.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage)
        .toList();
  }
}
