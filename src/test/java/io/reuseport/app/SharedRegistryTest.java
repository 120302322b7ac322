package io.reuseport.app;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.reuseport.config.ConfigLoader;
import io.reuseport.config.ServerConfig;
import io.reuseport.testsupport.AdminStats;
import io.reuseport.testsupport.VertxClients;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.transport.Transport;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Two servers on one Prometheus registry, as an application embedding a byte service and an HTTP service would
 * run them ({@link ServerDeployOptions#setMeterRegistry}): each named server's series carry {@code server="..."}
 * and count only its own traffic; a second server that would register the same series is refused at deploy; a
 * stopped server's series leave the registry. One server per Vertx (the stats addresses on its event bus are fixed),
 * hence a Vertx each.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class SharedRegistryTest {

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final List<Vertx> hosts = new ArrayList<>();
  private HttpClient http;

  @AfterEach
  void closeHosts() {
    List.copyOf(hosts).forEach(host -> host.close().await());
    if (http != null) {
      http.close().await();
    }
  }

  @Test
  void eachNamedServerCountsItsOwnTrafficUnderItsOwnLabel(Vertx clients, VertxTestContext test) {
    http = clients.createHttpClient();
    RunningServer[] servers = new RunningServer[2];
    deploy(config("echo"), "bytes")
        .compose(bytes -> {
          servers[0] = bytes;
          return deploy(config("hello-http"), "web");
        })
        .compose(web -> {
          servers[1] = web;
          // two echo exchanges on the byte server, one request on the HTTP server
          // a client of its own, closed after: a kept-alive connection would hold the server's drain at stop
          HttpClient service = clients.createHttpClient();
          return echo(clients, servers[0].port()).compose(x -> echo(clients, servers[0].port()))
              .compose(x -> VertxClients.get(service, servers[1].port(), "/plaintext"))
              .eventually(service::close);
        })
        // /metrics reads the collectors' latest snapshots: bring them in first
        .compose(answer -> AdminStats.fresh(http, servers[0].adminPort()))
        .compose(stats -> AdminStats.fresh(http, servers[1].adminPort()))
        .compose(stats -> VertxClients.get(http, servers[1].adminPort(), "/metrics"))
        .compose(metrics -> servers[1].stop().compose(x -> servers[0].stop()).map(metrics))
        .onComplete(test.succeeding(metrics -> test.verify(() -> {
          String text = metrics.body();
          assertThat(sum(text, "reuseport_tcp_connections_accepted_total", "server=\"bytes\"")).isEqualTo(2);
          assertThat(sum(text, "reuseport_tcp_connections_accepted_total", "server=\"web\"")).isEqualTo(1);
          assertThat(sum(text, "reuseport_http_requests_total", "server=\"web\"", "status_class=\"2xx\""))
              .isEqualTo(1);
          assertThat(sum(text, "reuseport_http_request_duration_seconds_count", "server=\"web\"")).isEqualTo(1);
          assertThat(sum(text, "reuseport_ready", "server=\"bytes\"")).isEqualTo(1);
          assertThat(sum(text, "reuseport_ready", "server=\"web\"")).isEqualTo(1);
          assertThat(text).as("a byte service has no HTTP series")
              .doesNotContainPattern("reuseport_http_[a-z_]+\\{[^}]*server=\"bytes\"");
          assertThat(text).as("every reuseport series names its server")
              .doesNotContainPattern("(?m)^reuseport_[a-z_]+(\\{(?![^}]*server=)[^}]*\\})? ");
          test.completeNow();
        })));
  }

  @Test
  void aSecondServerWithoutItsOwnNameIsRefusedAtDeploy(VertxTestContext test) {
    deploy(config("echo"), null)
        .compose(first -> deployFailing(config("echo"), null)
            .compose(err -> {
              test.verify(() -> assertThat(err)
                  .hasMessageContaining("already holds the meters of a reuseport server without a name")
                  .hasMessageContaining("ServerDeployOptions.setMetricsName"));
              return deployFailing(config("echo"), "second");
            })
            .compose(err -> {
              test.verify(() -> assertThat(err).hasMessageContaining("this one is named 'second'"));
              return first.stop();
            }))
        .compose(stopped -> deploy(config("echo"), "first"))
        .compose(first -> deployFailing(config("echo"), "first")
            .compose(err -> {
              test.verify(() -> {
                assertThat(err).hasMessageContaining("server named 'first'");
                assertThat(hosts.get(hosts.size() - 1).deploymentIDs()).as("nothing of the refused server")
                    .isEmpty();
              });
              return first.stop();
            }))
        .onComplete(test.succeedingThenComplete());
  }

  @Test
  void aStoppedServersSeriesLeaveTheSharedRegistry(VertxTestContext test) {
    RunningServer[] servers = new RunningServer[2];
    deploy(config("echo"), "stays")
        .compose(stays -> {
          servers[0] = stays;
          return deploy(config("hello-http"), "goes");
        })
        .compose(goes -> {
          test.verify(() -> assertThat(registry.scrape()).contains("server=\"goes\""));
          return goes.stop();
        })
        .compose(stopped -> {
          test.verify(() -> {
            String text = registry.scrape();
            assertThat(text).doesNotContain("server=\"goes\"");
            assertThat(sum(text, "reuseport_ready", "server=\"stays\"")).isEqualTo(1);
          });
          // the name is free again, and so is the HTTP histogram's family
          return deploy(config("hello-http"), "goes");
        })
        .compose(again -> again.stop())
        .compose(stopped -> servers[0].stop())
        .onComplete(test.succeeding(stopped -> test.verify(() -> {
          assertThat(registry.scrape()).doesNotContain("reuseport_");
          test.completeNow();
        })));
  }

  @Test
  void aNameThatCannotBeALabelValueIsRefusedAtOnce() {
    assertThatThrownBy(() -> new ServerDeployOptions().setMetricsName("has space"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("metrics name 'has space'");
  }

  private Future<RunningServer> deploy(ServerConfig config, String name) {
    return ReusePortServer.deploy(host(), config, options(name));
  }

  private Future<Throwable> deployFailing(ServerConfig config, String name) {
    return ReusePortServer.deploy(host(), config, options(name)).transform(done -> done.succeeded()
        ? done.result().stop().transform(x -> Future.failedFuture("deployed, but should have been refused"))
        : Future.succeededFuture(done.cause()));
  }

  private ServerDeployOptions options(String name) {
    return new ServerDeployOptions().setMeterRegistry(registry).setMetricsName(name);
  }

  private Vertx host() {
    Vertx vertx = Vertx.builder().with(new VertxOptions().setEventLoopPoolSize(3)).withTransport(Transport.EPOLL)
        .build();
    hosts.add(vertx);
    return vertx;
  }

  private static ServerConfig config(String service) {
    return ConfigLoader.fromJson(new JsonObject().put("host", "127.0.0.1").put("port", 0)
        .put("adminHost", "127.0.0.1").put("adminPort", 0).put("instances", 2).put("service", service));
  }

  /** One echo exchange on a connection of its own, closed once answered. */
  private static Future<Void> echo(Vertx vertx, int port) {
    NetClient client = vertx.createNetClient();
    return client.connect(port, VertxClients.LOOPBACK).compose(socket -> {
      Promise<Void> answered = Promise.promise();
      socket.handler(data -> answered.tryComplete());
      return socket.write(Buffer.buffer("hi")).compose(v -> answered.future()).compose(v -> socket.close());
    }).eventually(client::close);
  }

  /** The sum of the samples of {@code metric} whose labels include every one of {@code labels}. */
  private static double sum(String text, String metric, String... labels) {
    double total = 0;
    Pattern line = Pattern.compile("^" + Pattern.quote(metric) + "\\{([^}]*)\\} (\\S+)$");
    for (String sample : text.split("\n")) {
      var m = line.matcher(sample);
      if (m.matches() && List.of(m.group(1).split(",")).containsAll(List.of(labels))) {
        total += Double.parseDouble(m.group(2));
      }
    }
    return total;
  }
}
