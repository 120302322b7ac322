package io.reuseport.config;

import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Builds a {@link ServerConfig} from, strongest first: command-line flags, {@code REUSEPORT_*} environment variables,
 * the JSON file, the built-in defaults. Every value is checked here, once.
 */
public final class ConfigLoader {

  /** The file read when {@code --conf} is not given. */
  public static final Path DEFAULT_FILE = Path.of("conf", "config.json");
  /** Every environment variable with this prefix must be a setting's. */
  static final String ENV_PREFIX = "REUSEPORT_";

  private ConfigLoader() {
  }

  /**
   * @param file the JSON file, or null for {@link #DEFAULT_FILE} (which may be absent)
   * @param env the environment
   * @param flags command-line values by setting, as text
   */
  public static ServerConfig load(Path file, Map<String, String> env, Map<Setting, String> flags) {
    return load(file, env, flags, new ConfigSources());
  }

  /**
   * Same, and records in {@code sources} where each value came from. An error names the setting and its source.
   */
  public static ServerConfig load(Path file, Map<String, String> env, Map<Setting, String> flags,
                                  ConfigSources sources) {
    Path path = file == null ? DEFAULT_FILE : file;
    JsonObject merged = ConfigFile.read(path, file == null);
    String fileSource = "file " + path;
    try {
      checkKnownKeys(merged);
      for (String key : merged.fieldNames()) {
        sources.set(Setting.byKey(key), fileSource);
      }
    } catch (ConfigException e) {
      throw e.from(fileSource);
    }
    checkKnownVariables(env);
    for (Setting s : Setting.values()) {
      String fromEnv = env.get(s.envVar());
      if (fromEnv != null) {
        sources.set(s, "environment variable " + s.envVar());
        merged.put(s.key(), coerce(s, fromEnv, sources));
      }
      String fromFlag = flags.get(s);
      if (fromFlag != null) {
        sources.set(s, "flag " + s.flag());
        merged.put(s.key(), coerce(s, fromFlag, sources));
      }
    }
    ServerConfig config;
    try {
      config = fromJson(merged);
    } catch (ConfigException e) {
      Setting s = Setting.byKey(e.setting());
      throw s == null ? e : e.from(sources.of(s));
    }
    StartupChecks.check(config, sources);
    return config;
  }

  private static Object coerce(Setting s, String text, ConfigSources sources) {
    try {
      return s.coerce(text, true);
    } catch (ConfigException e) {
      throw e.from(sources.of(s));
    }
  }

  /** A misspelt variable must not be ignored silently, any more than a misspelt key in the file. */
  private static void checkKnownVariables(Map<String, String> env) {
    for (String name : env.keySet()) {
      if (name.startsWith(ENV_PREFIX) && Arrays.stream(Setting.values()).noneMatch(s -> s.envVar().equals(name))) {
        String known = Arrays.stream(Setting.values()).map(Setting::envVar).collect(Collectors.joining(", "));
        String guess = Setting.closest(name, Setting::envVar);
        throw new ConfigException(name, "environment variable", "unknown variable"
            + (guess == null ? "" : "; did you mean " + guess + "?") + " Known ones: " + known);
      }
    }
  }

  private static void checkKnownKeys(JsonObject json) {
    for (String key : json.fieldNames()) {
      if (Setting.byKey(key) == null) {
        String guess = Setting.closest(key, Setting::key);
        throw new ConfigException(key, "unknown setting" + (guess == null ? "" : "; did you mean '" + guess + "'?")
            + " Known settings are " + Setting.keys());
      }
    }
  }

  /** Parses a configuration object with the file's keys; absent keys take their defaults, unknown keys fail. */
  public static ServerConfig fromJson(JsonObject json) {
    Map<Setting, Object> v = new EnumMap<>(Setting.class);
    checkKnownKeys(json);
    for (Setting s : Setting.values()) {
      Object raw = json.getValue(s.key());
      if (raw == null && json.containsKey(s.key())) {
        throw new ConfigException(s.key(), "null is not a value; leave the setting out to get its default"
            + (s.defaultValue() == null ? "" : " (" + s.defaultValue() + ")"));
      }
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
        (Integer) v.get(Setting.MAX_ADMIN_CONNECTIONS),
        (Steering) v.get(Setting.STEERING),
        (Integer) v.get(Setting.STALL_THRESHOLD_MS),
        (Boolean) v.get(Setting.TCP_HALF_CLOSE),
        (Integer) v.get(Setting.UDP_FLOW_IDLE_SECONDS),
        new HttpSettings((String) v.get(Setting.TLS_CERT_PATH), (String) v.get(Setting.TLS_KEY_PATH),
            (Integer) v.get(Setting.MAX_REQUEST_LINE_BYTES), (Integer) v.get(Setting.MAX_HEADER_BYTES),
            (Integer) v.get(Setting.HEADER_TIMEOUT_SECONDS)));
  }
}
