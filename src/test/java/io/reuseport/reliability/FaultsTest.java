package io.reuseport.reliability;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.reuseport.app.RunningServer;
import io.reuseport.stats.StatsCollector;
import io.reuseport.testsupport.Admin;
import io.reuseport.testsupport.Clients;
import io.reuseport.testsupport.Servers;
import io.reuseport.testsupport.StallService;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Faults inside one process: an instance whose event loop stalls, a service that throws.
 */
@Timeout(90)
class FaultsTest {

  private static final int INTERVAL_MS = 500;

  @Test
  void aStalledInstanceIsReportedStaleAndLoggedWhileTheOthersServeThenRecovers() throws Exception {
    ListAppender<ILoggingEvent> log = new ListAppender<>();
    // appended to by the collector's loop while the test reads it
    log.list = new CopyOnWriteArrayList<>();
    log.start();
    Logger collectorLog = (Logger) LoggerFactory.getLogger(StatsCollector.class);
    collectorLog.addAppender(log);
    RunningServer server = Servers.start(new JsonObject().put("service", "stall")
        .put("statsIntervalMs", INTERVAL_MS));
    try (Socket stalled = Clients.connect(server.port())) {
      stalled.setSoTimeout(60_000);
      BufferedReader in = new BufferedReader(new InputStreamReader(stalled.getInputStream(),
          StandardCharsets.US_ASCII));
      int id = askId(stalled, in);
      long start = System.nanoTime();
      stalled.getOutputStream().write("stall\n".getBytes(StandardCharsets.US_ASCII));
      awaitStale(server.adminPort(), id, true);
      long detectedMs = (System.nanoTime() - start) / 1_000_000;
      System.out.printf("stall: instance %d reported stale after %d ms (stats interval %d ms)%n", id, detectedMs,
          INTERVAL_MS);

      // while it stalls, fresh connections (fresh 4-tuples) that reach another instance are served
      assertThat(anotherInstanceAnswers(server.port(), id, 30)).as("another instance answered during the stall")
          .isTrue();

      assertThat(in.readLine()).isEqualTo("stalled");
      awaitStale(server.adminPort(), id, false);
      assertThat(log.list).anyMatch(e -> e.getLevel() == Level.WARN
          && e.getFormattedMessage().contains("instance " + id + " is stale"));
      // logged at the collector's next tick, which may come just after /stats cleared
      while (log.list.stream().noneMatch(e -> e.getFormattedMessage().contains("instance " + id + " reports again"))) {
        Thread.sleep(50);
      }
    } finally {
      collectorLog.detachAppender(log);
      server.stop().await();
    }
  }

  @Test
  void aServiceExceptionClosesThatConnectionOnly() throws Exception {
    RunningServer server = Servers.start(new JsonObject().put("service", "stall").put("instances", 1));
    try (Socket bad = Clients.connect(server.port()); Socket good = Clients.connect(server.port())) {
      // generous: on a loaded machine an echo can take seconds; the test is about what happens, not how fast
      good.setSoTimeout(30_000);
      bad.setSoTimeout(30_000);
      assertThat(echo(good, 'a')).isEqualTo('a');
      bad.getOutputStream().write("boom\n".getBytes(StandardCharsets.US_ASCII));
      assertThat(readOrEof(bad)).as("the connection whose data made the service throw").isEqualTo(-1);
      assertThat(echo(good, 'b')).as("another connection of the same instance").isEqualTo('b');
      try (Socket next = Clients.connect(server.port())) {
        assertThat(echo(next, 'c')).isEqualTo('c');
      }
      assertThat(Servers.total(server, "tcp", "errors")).isEqualTo(1);
    } finally {
      server.stop().await();
    }
  }

  private static int askId(Socket s, BufferedReader in) throws IOException {
    s.getOutputStream().write("id\n".getBytes(StandardCharsets.US_ASCII));
    return Integer.parseInt(in.readLine());
  }

  /** Polls /stats until instance {@code id}'s stale flag is {@code expected} (bounded by the test's timeout). */
  private static void awaitStale(int adminPort, int id, boolean expected) throws Exception {
    while (true) {
      JsonArray instances = new JsonObject(Admin.get(adminPort, "/stats").body()).getJsonArray("instances");
      if (instances.getJsonObject(id).getBoolean("stale") == expected) {
        return;
      }
      Thread.sleep(50);
    }
  }

  /**
   * Fresh connections ask "id" until one is answered by an instance other than {@code stalled}; false after
   * {@code attempts}. Those that land on the stalled instance time out.
   */
  private static boolean anotherInstanceAnswers(int port, int stalled, int attempts) throws IOException {
    for (int i = 0; i < attempts; i++) {
      try (Socket s = Clients.connect(port)) {
        s.setSoTimeout(1_000);
        BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
        if (askId(s, in) != stalled) {
          return true;
        }
      } catch (SocketTimeoutException onTheStalledInstance) {
        // the next 4-tuple may hash elsewhere
      }
    }
    return false;
  }

  private static int echo(Socket s, int value) throws IOException {
    s.getOutputStream().write(value);
    return s.getInputStream().read();
  }

  private static int readOrEof(Socket s) throws IOException {
    try {
      return s.getInputStream().read();
    } catch (java.net.SocketException reset) {
      return -1;
    }
  }
}
