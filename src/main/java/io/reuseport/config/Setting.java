package io.reuseport.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Every setting the server reads, with its default, its range and its help text. This one table drives the JSON
 * keys in {@code conf/}, the {@code REUSEPORT_*} environment variables, the command-line flags and {@code --help}.
 */
public enum Setting {
  HOST("host", Type.STRING, "0.0.0.0", "address the TCP listeners and UDP sockets bind"),
  PORT("port", Type.INT, 9000, "TCP and UDP port shared by all instances (0 = pick a free one)", 0, 65535),
  INSTANCES("instances", Type.INT, null, "server instances, one event loop each (default: available processors)",
      1, 1024),
  BALANCING("balancing", Type.ENUM, "reuseport", "reuseport (one socket per instance) or shared (Vert.x NetServer)",
      Balancing.class),
  TRANSPORT("transport", Type.ENUM, "auto", "auto (= epoll), epoll, io_uring, or nio (shared balancing only)",
      TransportKind.class),
  SERVICE("service", Type.STRING, "echo", "service that owns the bytes: echo, discard, sockperf, or a plugged-in one"),
  ACCEPT_BACKLOG("acceptBacklog", Type.INT, 1024, "accept queue length of each TCP listener", 1, 1 << 20),
  MAX_CONNECTIONS_PER_INSTANCE("maxConnectionsPerInstance", Type.INT, 10_000,
      "open connections per instance; further ones are closed at once and counted as rejected", 1, 1 << 24),
  IDLE_TIMEOUT_SECONDS("idleTimeoutSeconds", Type.INT, 300,
      "close a connection with no traffic either way for this long, at most an eighth more (0 = never)", 0, 86_400),
  TCP_HALF_CLOSE("tcpHalfClose", Type.BOOLEAN, true,
      "reuseport mode: when a peer shuts down its sending side, tell the service (onEnd) and close once its replies"
          + " are written; false closes at once, one system call less per connection, but replies not yet taken"
          + " by the kernel are lost and onEnd is not called"),
  DRAIN_TIMEOUT_SECONDS("drainTimeoutSeconds", Type.INT, 30,
      "on SIGTERM, how long open connections may take to finish before they are closed", 0, 3_600),
  UDP_RECEIVE_BUFFER_BYTES("udpReceiveBufferBytes", Type.INT, 4 << 20,
      "SO_RCVBUF of each UDP socket (0 = kernel default; capped by net.core.rmem_max)", 0, 1 << 30),
  ADMIN_HOST("adminHost", Type.STRING, "0.0.0.0", "address of the admin HTTP server"),
  ADMIN_PORT("adminPort", Type.INT, 8080, "port of the admin HTTP server (0 = pick a free one)", 0, 65535),
  STATS_INTERVAL_MS("statsIntervalMs", Type.INT, 1000, "how often each instance publishes its counters", 50, 600_000),
  FAIRNESS_WARN_BELOW("fairnessWarnBelow", Type.DOUBLE, 0.8,
      "log a warning when Jain's index over the last interval drops below this", 0.0, 1.0),
  FAIRNESS_MIN_SAMPLE("fairnessMinSample", Type.INT, 200,
      "connections or datagrams an interval needs before its fairness is judged", 1, Integer.MAX_VALUE),
  CONTROL_SOCKET("controlSocket", Type.PATH, "",
      "Unix socket a new process takes the listeners over from with --takeover (epoll only; empty = none)"),
  MAX_ADMIN_CONNECTIONS("maxAdminConnections", Type.INT, 64,
      "open admin HTTP connections; further ones are closed at once, so that admin clients cannot take the"
          + " service's file descriptors", 1, 100_000),
  STEERING("steering", Type.ENUM, "auto",
      "auto (BPF selector where the process may load it, else the kernel's hash), bpf (required), kernel",
      Steering.class),
  STALL_THRESHOLD_MS("stallThresholdMs", Type.INT, 300,
      "with the BPF selector, steer new traffic around an instance whose event loop made no progress for this long",
      50, 60_000),
  UDP_FLOW_IDLE_SECONDS("udpFlowIdleSeconds", Type.INT, 120,
      "with the BPF selector, a UDP flow stays with its instance until it has gone this long without a datagram;"
          + " then its next datagram is placed afresh (a flow moved around a stall comes home)", 1, 86_400),
  TLS_CERT_PATH("tlsCertPath", Type.PATH, "",
      "HTTP services: PEM certificate chain; with tlsKeyPath the listeners speak TLS only, with ALPN (h2, http/1.1);"
          + " empty = cleartext HTTP/1.1 and h2c"),
  TLS_KEY_PATH("tlsKeyPath", Type.PATH, "", "HTTP services: PEM private key (PKCS#8) of tlsCertPath"),
  MAX_REQUEST_LINE_BYTES("maxRequestLineBytes", Type.INT, 4096,
      "HTTP services: longest HTTP/1 request line (method, URI, version); a longer one is answered 414", 256,
      1 << 20),
  MAX_HEADER_BYTES("maxHeaderBytes", Type.INT, 8192,
      "HTTP services: largest HTTP/1 header block; a larger one is answered 431", 1024, 1 << 20),
  HEADER_TIMEOUT_SECONDS("headerTimeoutSeconds", Type.INT, 10,
      "HTTP services: close a connection whose request head is not complete this long after accept (first"
          + " request, TLS handshake included) or after its first byte (later requests; slowloris)", 1, 3_600);

  enum Type { STRING, PATH, INT, DOUBLE, BOOLEAN, ENUM }

  private final String key;
  private final Type type;
  private final Object defaultValue;
  private final String help;
  private final double min;
  private final double max;
  private final Class<? extends Enum<?>> enumType;

  Setting(String key, Type type, Object defaultValue, String help) {
    this(key, type, defaultValue, help, 0, 0, null);
  }

  Setting(String key, Type type, Object defaultValue, String help, double min, double max) {
    this(key, type, defaultValue, help, min, max, null);
  }

  Setting(String key, Type type, Object defaultValue, String help, Class<? extends Enum<?>> enumType) {
    this(key, type, defaultValue, help, 0, 0, enumType);
  }

  Setting(String key, Type type, Object defaultValue, String help, double min, double max,
          Class<? extends Enum<?>> enumType) {
    this.key = key;
    this.type = type;
    this.defaultValue = defaultValue;
    this.help = help;
    this.min = min;
    this.max = max;
    this.enumType = enumType;
  }

  /** The key in the JSON file, e.g. {@code adminPort}. */
  public String key() {
    return key;
  }

  /** The command-line flag, e.g. {@code --admin-port}. */
  public String flag() {
    return "--" + key.replaceAll("([A-Z])", "-$1").toLowerCase(Locale.ROOT);
  }

  /** The environment variable, e.g. {@code REUSEPORT_ADMIN_PORT}. */
  public String envVar() {
    return "REUSEPORT_" + key.replaceAll("([A-Z])", "_$1").toUpperCase(Locale.ROOT);
  }

  public String help() {
    return help;
  }

  /** The built-in default, or null where it is computed at start-up. */
  public Object defaultValue() {
    return defaultValue;
  }

  public static Setting byKey(String key) {
    for (Setting s : values()) {
      if (s.key.equals(key)) {
        return s;
      }
    }
    return null;
  }

  /**
   * The name among all settings' names (as {@code name} gives them) closest to {@code typo}, within two edits; null
   * when none is that close.
   */
  static String closest(String typo, Function<Setting, String> name) {
    String best = null;
    int bestDistance = 3;
    for (Setting s : values()) {
      int d = distance(typo.toLowerCase(Locale.ROOT), name.apply(s).toLowerCase(Locale.ROOT));
      if (d < bestDistance) {
        bestDistance = d;
        best = name.apply(s);
      }
    }
    return best;
  }

  /** Levenshtein distance. */
  private static int distance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }

  public static String keys() {
    return Arrays.stream(values()).map(Setting::key).collect(Collectors.joining(", "));
  }

  /**
   * Converts a value from JSON (Number, String, ...) or from text (environment, command line) into this setting's
   * type, checking its range.
   *
   * @param raw the value
   * @param fromText whether the value came as text (numbers are then parsed)
   * @throws ConfigException naming this setting when the value does not fit
   */
  Object coerce(Object raw, boolean fromText) {
    switch (type) {
      case STRING:
        if (!(raw instanceof String) || ((String) raw).isBlank()) {
          throw new ConfigException(key, "expected a non-empty string, got " + show(raw));
        }
        return raw;
      case PATH:
        // empty means "not set"; anything else is a file system path
        if (!(raw instanceof String)) {
          throw new ConfigException(key, "expected a path or an empty string, got " + show(raw));
        }
        return ((String) raw).trim();
      case INT:
        return checkRange(toNumber(raw, fromText, true)).intValue();
      case DOUBLE:
        return checkRange(toNumber(raw, fromText, false)).doubleValue();
      case BOOLEAN:
        return toBoolean(raw, fromText);
      case ENUM:
      default:
        return toEnum(raw);
    }
  }

  private Number toNumber(Object raw, boolean fromText, boolean integral) {
    String expected = integral ? "an integer" : "a number";
    if (raw instanceof Number) {
      Number n = (Number) raw;
      if (integral && n.doubleValue() != Math.rint(n.doubleValue())) {
        throw new ConfigException(key, "expected " + expected + ", got " + show(raw));
      }
      return n;
    }
    if (fromText && raw instanceof String) {
      try {
        return integral ? Long.parseLong(((String) raw).trim()) : Double.parseDouble(((String) raw).trim());
      } catch (NumberFormatException e) {
        throw new ConfigException(key, "expected " + expected + ", got " + show(raw));
      }
    }
    throw new ConfigException(key, "expected " + expected + ", got " + showJson(raw));
  }

  private Boolean toBoolean(Object raw, boolean fromText) {
    if (raw instanceof Boolean) {
      return (Boolean) raw;
    }
    if (fromText && raw instanceof String) {
      String text = ((String) raw).trim();
      if (text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false")) {
        return Boolean.valueOf(text);
      }
    }
    throw new ConfigException(key, "expected true or false, got " + (fromText ? show(raw) : showJson(raw)));
  }

  private Number checkRange(Number n) {
    if (n.doubleValue() < min || n.doubleValue() > max) {
      throw new ConfigException(key, show(n) + " is out of range " + fmt(min) + ".." + fmt(max));
    }
    return n;
  }

  private Object toEnum(Object raw) {
    String allowed = Arrays.stream(enumType.getEnumConstants())
        .map(e -> e.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", "));
    if (raw instanceof String) {
      for (Enum<?> e : enumType.getEnumConstants()) {
        if (e.name().equalsIgnoreCase(((String) raw).trim())) {
          return e;
        }
      }
    }
    throw new ConfigException(key, show(raw) + " is not one of " + allowed);
  }

  private static String fmt(double d) {
    return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
  }

  /** A value from the JSON file: a string says it is one, since its quotes are what is wrong. */
  private static String showJson(Object raw) {
    if (raw instanceof String) {
      return "the string \"" + raw + "\" (write it without quotes)";
    }
    return show(raw);
  }

  private static String show(Object raw) {
    if (raw instanceof String) {
      return "'" + raw + "'";
    }
    if (raw instanceof Number) {
      return fmt(((Number) raw).doubleValue());
    }
    return String.valueOf(raw);
  }
}
