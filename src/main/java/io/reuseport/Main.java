package io.reuseport;

import io.reuseport.app.NettyDefaults;
import io.reuseport.app.ReusePortServer;
import io.reuseport.app.RunningServer;
import io.reuseport.app.ServerState;
import io.reuseport.config.ConfigException;
import io.reuseport.config.ConfigLoader;
import io.reuseport.config.ConfigSources;
import io.reuseport.config.ServerConfig;
import io.reuseport.config.Setting;
import io.reuseport.load.LoadCommand;
import io.reuseport.server.InheritedSockets;
import io.reuseport.server.StartupException;
import io.reuseport.service.Services;
import io.reuseport.stats.KernelTunables;
import io.reuseport.upgrade.ControlServer;
import io.reuseport.upgrade.Upgrade;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;

/**
 * The command line: parses flags (one per {@link Setting}), loads the configuration, starts the server, and drains it
 * on SIGTERM or SIGINT.
 */
public final class Main {

  private static final Logger LOG = LoggerFactory.getLogger(Main.class);
  static final int EXIT_BAD_CONFIG = 2;
  static final int EXIT_START_FAILED = 1;

  private Main() {
  }

  public static void main(String[] args) {
    NettyDefaults.apply();
    int code = run(args);
    if (code >= 0) {
      System.exit(code);
    }
  }

  /**
   * @return the exit code, or -1 when the server is running (the process then lives until a signal)
   */
  static int run(String[] args) {
    if (args.length > 0 && "load".equals(args[0])) {
      return LoadCommand.run(Arrays.copyOfRange(args, 1, args.length));
    }
    CommandLine cli = new CommandLine(commandSpec());
    ParseResult parsed;
    try {
      parsed = cli.parseArgs(args);
    } catch (CommandLine.ParameterException e) {
      System.err.println("reuseport-server: " + e.getMessage() + suggestion(e) + " (see --help)");
      return EXIT_BAD_CONFIG;
    }
    if (cli.isUsageHelpRequested()) {
      cli.usage(System.out);
      return 0;
    }
    ServerConfig config;
    ConfigSources sources = new ConfigSources();
    try {
      config = ConfigLoader.load(parsed.matchedOptionValue("--conf", null), System.getenv(), flags(parsed), sources);
    } catch (ConfigException e) {
      System.err.println("reuseport-server: " + e.getMessage());
      return EXIT_BAD_CONFIG;
    }
    try {
      // before anything is logged: a service that is not on the class path is a wrong setting, one line only
      Services.check(config.service());
    } catch (ConfigException e) {
      System.err.println("reuseport-server: " + e.from(sources.of(Setting.SERVICE)).getMessage());
      return EXIT_BAD_CONFIG;
    }
    String takeoverPath = parsed.matchedOptionValue("--takeover", null);
    if (takeoverPath != null && config.controlSocket().isEmpty()) {
      // the new process takes over the old one's control socket path, so that the next upgrade finds it there
      try {
        config = config.withControlSocket(takeoverPath);
      } catch (ConfigException e) {
        System.err.println("reuseport-server: --takeover: " + e.getMessage());
        return EXIT_BAD_CONFIG;
      }
    }
    // handlers first: a SIGTERM that arrives while instances bind keeps readiness down, waits for start-up, then
    // drains
    ServerState state = new ServerState();
    Lifecycle life = new Lifecycle(config, state);
    ShutdownSignals signals = ShutdownSignals.install(life);
    logMigrateReq();
    try {
      RunningServer server = takeoverPath == null ? ReusePortServer.start(config, InheritedSockets.none(), state)
          .await() : Upgrade.takeOver(Path.of(takeoverPath), config, state);
      life.started.complete(server);
      if (state.stopRequested()) {
        return -1;
      }
      server.watchSockets();
      if (!config.controlSocket().isEmpty()) {
        // serving already: without its control socket the server still serves, it just cannot be taken over
        ControlServer.start(Path.of(config.controlSocket()), server, () -> signals.begin("takeover"))
            .onSuccess(life::controlSocket)
            .onFailure(err -> LOG.error("no control socket ({}): this server cannot be taken over",
                err.getMessage()));
      }
      return -1;
    } catch (Upgrade.StoppedBeforeStart e) {
      life.started.completeExceptionally(e);
      return -1;
    } catch (ConfigException e) {
      life.started.cancel(false);
      Setting blamed = Setting.byKey(e.setting());
      System.err.println("reuseport-server: " + (blamed == null ? e : e.from(sources.of(blamed))).getMessage());
      return EXIT_BAD_CONFIG;
    } catch (StartupException e) {
      life.started.cancel(false);
      Setting blamed = e.setting();
      System.err.println("reuseport-server: " + e.getMessage()
          + (blamed == null ? "" : " ('" + blamed.key() + "' is set by " + sources.of(blamed) + ")"));
      return EXIT_START_FAILED;
    } catch (Exception e) {
      life.started.cancel(false);
      System.err.println("reuseport-server: cannot start: " + e);
      return EXIT_START_FAILED;
    }
  }

  /** Picocli's guess for a misspelt flag ({@code --porrt}: {@code --port}), as misspelt variables and keys get. */
  static String suggestion(CommandLine.ParameterException e) {
    if (e instanceof CommandLine.UnmatchedArgumentException unmatched && !unmatched.getSuggestions().isEmpty()) {
      return "; did you mean " + String.join(" or ", unmatched.getSuggestions()) + "?";
    }
    return "";
  }

  private static void logMigrateReq() {
    int migrate = KernelTunables.tcpMigrateReq();
    if (migrate < 0) {
      LOG.info("net.ipv4.tcp_migrate_req: not available (kernel < 5.14): closing a listener resets its queue");
    } else {
      LOG.info("net.ipv4.tcp_migrate_req = {}: {}", migrate, migrate == 1
          ? "a closing listener's queued connections move to another listener on the port"
          : "a closing listener's queued connections are reset (use --takeover for upgrades)");
    }
  }

  private static CommandSpec commandSpec() {
    CommandSpec spec = CommandSpec.create()
        .name("reuseport-server")
        .mixinStandardHelpOptions(false);
    spec.usageMessage()
        .description("A Vert.x server with one SO_REUSEPORT TCP listener and UDP socket per event loop.",
            "Settings, strongest first: these flags, REUSEPORT_* environment variables (e.g. REUSEPORT_ADMIN_PORT),",
            "the JSON file (--conf, default conf/config.json), built-in defaults.",
            "",
            "Subcommand: reuseport-server load [options] runs the load client against this or any echo server",
            "(tcp-churn, tcp-echo, udp-echo); see reuseport-server load --help.",
            "");
    spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true).description("show this help and exit")
        .build());
    spec.addOption(OptionSpec.builder("--takeover").paramLabel("PATH").type(String.class)
        .description("take the listening sockets over from the server whose control socket is PATH, then tell it"
            + " to drain and exit (epoll, reuseport only); this process then serves PATH. When no server answers"
            + " on PATH, or it leaves before passing its sockets, this one binds sockets of its own").build());
    spec.addOption(OptionSpec.builder("--conf").paramLabel("FILE").type(Path.class)
        .description("JSON configuration file (default: conf/config.json when present)").build());
    for (Setting s : Setting.values()) {
      Object def = s.defaultValue();
      spec.addOption(OptionSpec.builder(s.flag())
          .paramLabel("<" + s.key() + ">")
          .type(String.class)
          .description(s.help() + (def == null ? "" : " [default: " + def + "]") + " (env " + s.envVar() + ")")
          .build());
    }
    return spec;
  }

  private static Map<Setting, String> flags(ParseResult parsed) {
    Map<Setting, String> flags = new EnumMap<>(Setting.class);
    for (Setting s : Setting.values()) {
      String value = parsed.matchedOptionValue(s.flag(), null);
      if (value != null) {
        flags.put(s, value);
      }
    }
    return flags;
  }
}
