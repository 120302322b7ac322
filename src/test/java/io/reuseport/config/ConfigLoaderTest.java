package io.reuseport.config;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigLoaderTest {

  @TempDir
  Path dir;

  @Test
  void defaultsWhenNothingIsGiven() {
    ServerConfig c = ConfigLoader.fromJson(new JsonObject());
    assertThat(c.port()).isEqualTo(9000);
    assertThat(c.host()).isEqualTo("0.0.0.0");
    assertThat(c.balancing()).isEqualTo(Balancing.REUSEPORT);
    assertThat(c.transport()).isEqualTo(TransportKind.AUTO);
    assertThat(c.service()).isEqualTo("echo");
    assertThat(c.instances()).isEqualTo(Runtime.getRuntime().availableProcessors());
    assertThat(c.adminPort()).isEqualTo(8080);
  }

  @Test
  void flagsBeatEnvironmentBeatFileBeatDefaults() throws Exception {
    Path file = dir.resolve("c.json");
    Files.writeString(file, "{\"port\": 9100, \"instances\": 3, \"service\": \"discard\", \"adminPort\": 8100}");
    ServerConfig c = ConfigLoader.load(file,
        Map.of("REUSEPORT_PORT", "9200", "REUSEPORT_INSTANCES", "5"),
        Map.of(Setting.PORT, "9300"));
    assertThat(c.port()).isEqualTo(9300);
    assertThat(c.instances()).isEqualTo(5);
    assertThat(c.service()).isEqualTo("discard");
    assertThat(c.adminPort()).isEqualTo(8100);
    assertThat(c.idleTimeoutSeconds()).isEqualTo(300);
  }

  @Test
  void namesFollowTheSettingKey() {
    assertThat(Setting.ADMIN_PORT.flag()).isEqualTo("--admin-port");
    assertThat(Setting.ADMIN_PORT.envVar()).isEqualTo("REUSEPORT_ADMIN_PORT");
    assertThat(Setting.MAX_CONNECTIONS_PER_INSTANCE.flag()).isEqualTo("--max-connections-per-instance");
    assertThat(Setting.UDP_RECEIVE_BUFFER_BYTES.envVar()).isEqualTo("REUSEPORT_UDP_RECEIVE_BUFFER_BYTES");
  }

  @Test
  void theShippedFileIsValidAndMatchesTheDefaults() {
    ServerConfig shipped = ConfigLoader.load(Path.of("conf", "config.json"), Map.of(), Map.of());
    JsonObject defaults = ServerConfig.defaults().toJson();
    JsonObject fromFile = shipped.toJson();
    defaults.remove("instances");
    fromFile.remove("instances");
    assertThat(fromFile).isEqualTo(defaults);
  }

  @Test
  void wrongTypesAndValuesNameTheSetting() {
    assertThatThrownBy(() -> ConfigLoader.fromJson(new JsonObject().put("port", "9000")))
        .hasMessage("invalid setting 'port': expected an integer, got the string \"9000\" (write it without quotes)");
    assertThatThrownBy(() -> ConfigLoader.fromJson(new JsonObject().put("port", 1.5)))
        .hasMessage("invalid setting 'port': expected an integer, got 1.5");
    assertThatThrownBy(() -> ConfigLoader.fromJson(new JsonObject().put("host", "")))
        .hasMessage("invalid setting 'host': expected a non-empty string, got ''");
    assertThatThrownBy(() -> ConfigLoader.fromJson(new JsonObject().put("fairnessWarnBelow", 2)))
        .hasMessage("invalid setting 'fairnessWarnBelow': 2 is out of range 0..1");
    assertThatThrownBy(() -> ConfigLoader.fromJson(new JsonObject().put("balancing", "reuseport")
        .put("transport", "nio")))
        .hasMessageStartingWith("invalid setting 'transport': nio cannot set SO_REUSEPORT");
  }

  @Test
  void missingExplicitFileIsAnError() {
    assertThatThrownBy(() -> ConfigLoader.load(dir.resolve("nope.json"), Map.of(), Map.of()))
        .hasMessageContaining("invalid setting 'conf': file").hasMessageContaining("does not exist");
  }

  @Test
  void steeringDefaultsToAutoWithA300MsThresholdAndBpfNeedsANativeReusePortGroup() {
    ServerConfig c = ServerConfig.defaults();
    assertThat(c.steering()).isEqualTo(Steering.AUTO);
    assertThat(c.stallThresholdMs()).isEqualTo(300);
    assertThat(c.steerable()).isTrue();
    assertThat(ConfigLoader.fromJson(new JsonObject().put("steering", "KERNEL")).steering())
        .isEqualTo(Steering.KERNEL);
    assertThatThrownBy(() -> ConfigLoader.fromJson(new JsonObject().put("steering", "ebpf")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("'ebpf' is not one of auto, bpf, kernel");
    assertThatThrownBy(() -> ConfigLoader.fromJson(new JsonObject().put("stallThresholdMs", 10)))
        .isInstanceOf(ConfigException.class).hasMessageContaining("stallThresholdMs");
    assertThatThrownBy(() -> ConfigLoader.fromJson(new JsonObject().put("steering", "bpf")
        .put("balancing", "shared"))).isInstanceOf(ConfigException.class).hasMessageContaining("'steering'");
    // auto with shared balancing is allowed: it uses the kernel's hash and says why
    assertThat(ConfigLoader.fromJson(new JsonObject().put("balancing", "shared")).steerable()).isFalse();
    // io_uring sockets have descriptors like epoll's: the selector steers them (takeover still needs epoll)
    assertThat(ConfigLoader.fromJson(new JsonObject().put("steering", "bpf").put("transport", "io_uring"))
        .steerable()).isTrue();
    assertThatThrownBy(() -> ConfigLoader.fromJson(new JsonObject().put("transport", "io_uring")
        .put("controlSocket", "/tmp/x.sock"))).isInstanceOf(ConfigException.class)
        .hasMessageContaining("'controlSocket'");
  }

  @Test
  void tcpHalfCloseIsOnByDefaultAndTakesTrueOrFalseOnly() {
    assertThat(ServerConfig.defaults().tcpHalfClose()).isTrue();
    assertThat(ConfigLoader.fromJson(new JsonObject().put("tcpHalfClose", false)).tcpHalfClose()).isFalse();
    assertThat(ConfigLoader.load(null, Map.of("REUSEPORT_TCP_HALF_CLOSE", "FALSE"),
        Map.of()).tcpHalfClose()).isFalse();
    assertThat(ConfigLoader.load(null, Map.of(), Map.of(Setting.TCP_HALF_CLOSE, "true")).tcpHalfClose()).isTrue();
    assertThatThrownBy(() -> ConfigLoader.fromJson(new JsonObject().put("tcpHalfClose", "false")))
        .hasMessage("invalid setting 'tcpHalfClose': expected true or false, got the string \"false\" (write it"
            + " without quotes)");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of(Setting.TCP_HALF_CLOSE, "no")))
        .hasMessageContaining("'tcpHalfClose'").hasMessageContaining("expected true or false, got 'no'");
  }
}
