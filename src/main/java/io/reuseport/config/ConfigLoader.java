package io.reuseport.config;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;

/**
 * Builds a {@link ServerConfig} from, strongest first: command-line flags, {@code REUSEPORT_*} environment variables,
 * the JSON file, the built-in defaults. Every value is checked here, once.
 */
public final class ConfigLoader {

  /** The file read when {@code --conf} is not given. */
  public static final Path DEFAULT_FILE = Path.of("conf", "config.json");

  private ConfigLoader() {
  }

  /**
   * @param file the JSON file, or null for {@link #DEFAULT_FILE} (which may be absent)
   * @param env the environment
   * @param flags command-line values by setting, as text
   */
  public static ServerConfig load(Path file, Map<String, String> env, Map<Setting, String> flags) {
    JsonObject merged = readFile(file);
    for (Setting s : Setting.values()) {
      String fromEnv = env.get(s.envVar());
      if (fromEnv != null) {
        merged.put(s.key(), s.coerce(fromEnv, true));
      }
      String fromFlag = flags.get(s);
      if (fromFlag != null) {
        merged.put(s.key(), s.coerce(fromFlag, true));
      }
    }
    return fromJson(merged);
  }

  /** Parses a configuration object with the file's keys; absent keys take their defaults, unknown keys fail. */
  public static ServerConfig fromJson(JsonObject json) {
    Map<Setting, Object> v = new EnumMap<>(Setting.class);
    for (String key : json.fieldNames()) {
      if (Setting.byKey(key) == null) {
        throw new ConfigException(key, "unknown setting; known settings are " + Setting.keys());
      }
    }
    for (Setting s : Setting.values()) {
      Object raw = json.getValue(s.key());
      if (raw == null) {
        raw = s == Setting.INSTANCES ? Runtime.getRuntime().availableProcessors() : s.defaultValue();
      }
      v.put(s, s.coerce(raw, false));
    }
    return new ServerConfig(
        (String) v.get(Setting.HOST),
        (Integer) v.get(Setting.PORT),
        (Integer) v.get(Setting.INSTANCES),
        (Balancing) v.get(Setting.BALANCING),
        (TransportKind) v.get(Setting.TRANSPORT),
        (String) v.get(Setting.SERVICE),
        (Integer) v.get(Setting.ACCEPT_BACKLOG),
        (Integer) v.get(Setting.MAX_CONNECTIONS_PER_INSTANCE),
        (Integer) v.get(Setting.IDLE_TIMEOUT_SECONDS),
        (Integer) v.get(Setting.DRAIN_TIMEOUT_SECONDS),
        (Integer) v.get(Setting.UDP_RECEIVE_BUFFER_BYTES),
        (String) v.get(Setting.ADMIN_HOST),
        (Integer) v.get(Setting.ADMIN_PORT),
        (Integer) v.get(Setting.STATS_INTERVAL_MS),
        (Double) v.get(Setting.FAIRNESS_WARN_BELOW),
        (Integer) v.get(Setting.FAIRNESS_MIN_SAMPLE),
        (String) v.get(Setting.CONTROL_SOCKET),
        (Steering) v.get(Setting.STEERING),
        (Integer) v.get(Setting.STALL_THRESHOLD_MS));
  }

  private static JsonObject readFile(Path file) {
    Path path = file == null ? DEFAULT_FILE : file;
    String text;
    try {
      text = Files.readString(path, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      if (file == null) {
        return new JsonObject();
      }
      throw new ConfigException("conf", "file " + path + " does not exist");
    } catch (IOException e) {
      throw new ConfigException("conf", "cannot read " + path + ": " + e.getMessage());
    }
    try {
      return new JsonObject(text);
    } catch (DecodeException e) {
      String reason = e.getMessage() == null ? "" : e.getMessage().lines().findFirst().orElse("");
      throw new ConfigException("conf", path + " is not a JSON object: " + reason);
    }
  }
}
