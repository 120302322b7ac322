package io.reuseport.load;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;

/**
 * {@code reuseport-server load ...}: the command line of the load generator. Parses and checks the flags (exit 2 on
 * a wrong one or a non-loopback target), runs the load, prints the report (text, or one JSON object with
 * {@code --json}) on stdout and progress on stderr. Exit 0 when the run passed; 1 when it could not run, no
 * request succeeded, or more failed than {@code --max-error-rate} allows (the report is printed first); 2 for usage.
 */
@Command(name = "reuseport-server load", sortOptions = false,
    description = "Loads a server on this machine and reports throughput, errors, timeouts and latency.",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:the run passed", "1:it could not run, no request succeeded, or --max-error-rate was exceeded "
        + "(the report is printed first)", "2:a wrong option"})
public final class LoadCommand {

  static final int EXIT_OK = 0;
  static final int EXIT_FAILED = 1;
  static final int EXIT_USAGE = 2;

  @Option(names = "--mode", required = true, paramLabel = "MODE", description = "tcp-churn, tcp-echo or udp-echo")
  private String mode;

  @Option(names = "--target", defaultValue = "127.0.0.1:9000", paramLabel = "HOST:PORT",
      description = "server address (loopback only unless --allow-remote) [default: ${DEFAULT-VALUE}]")
  private String target;

  @Option(names = "--concurrency", defaultValue = "64", paramLabel = "N",
      description = "connections or UDP flows, each with one request in flight [default: ${DEFAULT-VALUE}]")
  private int concurrency;

  @Option(names = "--duration", defaultValue = "10s", paramLabel = "TIME",
      description = "how long to start requests, e.g. 10s, 500ms, 1m [default: ${DEFAULT-VALUE}]")
  private String duration;

  @Option(names = "--payload", defaultValue = "64", paramLabel = "BYTES",
      description = "bytes per request [default: ${DEFAULT-VALUE}]")
  private int payload;

  @Option(names = "--rate", defaultValue = "0", paramLabel = "R",
      description = "requests per second in total, 0 = as fast as answered [default: ${DEFAULT-VALUE}]")
  private double rate;

  @Option(names = "--max-requests", defaultValue = "0", paramLabel = "N",
      description = "attempt at most N requests, 0 = no limit [default: ${DEFAULT-VALUE}]")
  private long maxRequests;

  @Option(names = "--timeout", paramLabel = "TIME",
      description = "a request without answer after this counts as a timeout [default: 1s udp, 5s tcp]")
  private String timeout;

  @Option(names = "--event-loops", paramLabel = "N",
      description = "client event loops [default: available processors]")
  private Integer eventLoops;

  @Option(names = "--warmup", defaultValue = "0s", paramLabel = "TIME",
      description = "run this long first without counting (JIT, caches) [default: ${DEFAULT-VALUE}]")
  private String warmup;

  @Option(names = "--max-error-rate", paramLabel = "RATE",
      description = "fail (exit 1) when more than this share of requests fail or time out, e.g. 0.01 or 1%%; "
          + "a run where no request succeeds always fails")
  private String maxErrorRate;

  @Option(names = "--connect-retries", defaultValue = "" + LoadOptions.DEFAULT_CONNECT_RETRIES, paramLabel = "N",
      description = "failed connects in a row a connection tolerates, waiting 20 ms doubling up to 1 s after "
          + "each, before it stops [default: ${DEFAULT-VALUE}]")
  private int connectRetries;

  @Option(names = "--admin", paramLabel = "URL",
      description = "server admin base URL, e.g. http://127.0.0.1:8080: show where this run's work landed")
  private String admin;

  @Option(names = "--json", description = "print one JSON object on stdout instead of text")
  private boolean json;

  @Option(names = "--allow-remote", description = "allow a target outside loopback (a machine you run)")
  private boolean allowRemote;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help and exit")
  private boolean help;

  /** Runs the command with the process's stdout and stderr. */
  public static int run(String[] args) {
    return run(args, System.out, System.err);
  }

  static int run(String[] args, PrintStream out, PrintStream err) {
    LoadCommand command = new LoadCommand();
    CommandLine cli = new CommandLine(command);
    LoadOptions options;
    try {
      cli.parseArgs(args);
      if (cli.isUsageHelpRequested()) {
        cli.usage(out);
        return EXIT_OK;
      }
      options = command.options();
    } catch (CommandLine.ParameterException | IllegalArgumentException e) {
      String guess = e instanceof CommandLine.UnmatchedArgumentException unmatched
          && !unmatched.getSuggestions().isEmpty()
          ? "; did you mean " + String.join(" or ", unmatched.getSuggestions()) + "?" : "";
      err.println("load: " + e.getMessage() + guess + " (see load --help)");
      return EXIT_USAGE;
    }
    LoadResult result;
    try {
      result = LoadRunner.run(options, err);
    } catch (Exception e) {
      err.println("load: the run failed: " + e);
      return EXIT_FAILED;
    }
    if (options.json()) {
      out.println(LoadReport.json(result).encode());
    } else {
      out.print(LoadReport.text(result));
    }
    out.flush();
    String failure = result.failure();
    if (failure != null) {
      err.println("load: FAILED: " + failure);
      return EXIT_FAILED;
    }
    return EXIT_OK;
  }

  private LoadOptions options() {
    LoadMode m = LoadMode.parse(mode);
    Target t = LoopbackGuard.check(Target.parse(target), allowRemote);
    URI adminUrl = admin == null ? null : adminUrl(admin);
    if (adminUrl != null) {
      String host = adminUrl.getHost().replace("[", "").replace("]", "");
      LoopbackGuard.check(new Target(host, Math.max(1, adminUrl.getPort())), allowRemote);
    }
    Duration t0 = timeout == null ? LoadOptions.defaultTimeout(m) : LoadOptions.parseDuration(timeout);
    int loops = eventLoops == null ? Runtime.getRuntime().availableProcessors() : eventLoops;
    return new LoadOptions(m, t, concurrency, LoadOptions.parseDuration(duration), payload, rate, adminUrl, json,
        allowRemote, maxRequests, t0, loops, LoadOptions.parseDuration(warmup), connectRetries,
        maxErrorRate == null ? LoadOptions.NO_ERROR_LIMIT : LoadOptions.parseRate(maxErrorRate));
  }

  /** {@code --admin}'s URL, or one clear line saying what it must look like. */
  static URI adminUrl(String text) {
    String wanted = "--admin must be an http URL with a host, e.g. http://127.0.0.1:8080";
    URI url;
    try {
      url = new URI(text.trim());
    } catch (URISyntaxException e) {
      url = null;
    }
    if (url == null || !"http".equals(url.getScheme()) || url.getHost() == null) {
      boolean hostAndPort = text.matches("[^/:]+:\\d+|\\[[^]]+]:\\d+");
      throw new IllegalArgumentException(wanted + ", not '" + text + "'"
          + (hostAndPort ? "; did you mean http://" + text + "?" : ""));
    }
    return url;
  }
}
