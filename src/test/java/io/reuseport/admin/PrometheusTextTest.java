package io.reuseport.admin;

import io.reuseport.app.RunningServer;
import io.reuseport.testsupport.AsyncServers;
import io.reuseport.testsupport.VertxClients;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code /metrics} writes histogram buckets' {@code le} as Prometheus does ({@code le="0.0005"}, {@code le="1.0"}),
 * not as the Prometheus Java client does ({@code le="5.0E-4"}): the control, the registry's own scrape, still shows
 * the Java client's form.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class PrometheusTextTest {

  private RunningServer server;
  private HttpClient http;

  @AfterEach
  void stop() {
    if (http != null) {
      http.close().await();
    }
    if (server != null) {
      server.stop().await();
    }
  }

  @Test
  void numbersAreWrittenAsPrometheusFormatOpenMetricsFloatWritesThem() {
    assertThat(PrometheusText.format(0.0005)).isEqualTo("0.0005");
    assertThat(PrometheusText.format(0.0001)).isEqualTo("0.0001");
    assertThat(PrometheusText.format(0.00005)).isEqualTo("5e-05");
    assertThat(PrometheusText.format(0.0025)).isEqualTo("0.0025");
    assertThat(PrometheusText.format(1)).isEqualTo("1.0");
    assertThat(PrometheusText.format(2.5)).isEqualTo("2.5");
    assertThat(PrometheusText.format(10)).isEqualTo("10.0");
    assertThat(PrometheusText.format(100000)).isEqualTo("100000.0");
    assertThat(PrometheusText.format(1e6)).isEqualTo("1e+06");
    assertThat(PrometheusText.format(1.5e300)).isEqualTo("1.5e+300");
    assertThat(PrometheusText.format(-0.5)).isEqualTo("-0.5");
    assertThat(PrometheusText.format(0)).isEqualTo("0.0");
    assertThat(PrometheusText.format(Double.POSITIVE_INFINITY)).isEqualTo("+Inf");
    assertThat(PrometheusText.canonical("+Inf")).isEqualTo("+Inf");
    assertThat(PrometheusText.canonical("not a number")).isEqualTo("not a number");
  }

  @Test
  void onlyTheLeAndQuantileLabelsChange() {
    String text = "a_bucket{worker=\"0\",le=\"5.0E-4\"} 1.0E-4\nb{quantile=\"0.5\",x=\"5.0E-4\"} 2\n";
    assertThat(PrometheusText.canonicalFloatLabels(text))
        .isEqualTo("a_bucket{worker=\"0\",le=\"0.0005\"} 1.0E-4\nb{quantile=\"0.5\",x=\"5.0E-4\"} 2\n");
  }

  @Test
  void theScrapedHistogramHasPrometheusBucketLabels(Vertx vertx, VertxTestContext test) {
    http = vertx.createHttpClient();
    AsyncServers.start(new JsonObject().put("service", "hello-http").put("instances", 1))
        .compose(started -> {
          server = started;
          return VertxClients.get(http, server.adminPort(), AdminRoutes.METRICS);
        })
        .onComplete(test.succeeding(metrics -> test.verify(() -> {
          String bucket = "reuseport_http_request_duration_seconds_bucket{worker=\"0\",le=\"";
          assertThat(metrics.body()).contains(bucket + "0.0005\"}", bucket + "0.001\"}", bucket + "1.0\"}",
              bucket + "10.0\"}", bucket + "+Inf\"}");
          assertThat(metrics.body()).doesNotContainPattern("le=\"[^\"]*E");
          // the control: the Java client's own form, as the registry writes it
          assertThat(server.registry().scrape()).contains(bucket + "5.0E-4\"}");
          test.completeNow();
        })));
  }
}
