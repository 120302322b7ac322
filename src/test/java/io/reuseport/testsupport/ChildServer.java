package io.reuseport.testsupport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real {@code main} in a child JVM, as a user runs it: exit codes, signals and output are the real ones.
 */
public final class ChildServer implements AutoCloseable {

  private static final Pattern READY = Pattern.compile("ready: .*?, port (\\d+)");
  private static final Pattern ADMIN_PORT = Pattern.compile("ready: .*?, admin port (\\d+)");

  private final Process process;
  private final List<String> output = new CopyOnWriteArrayList<>();
  /** Notified by the reader at each line of output and when the output ends: the waits below wake on it. */
  private final Object newOutput = new Object();
  private volatile boolean outputEnded;
  private final Thread reader;

  private ChildServer(Process process) {
    this.process = process;
    reader = new Thread(this::pump, "child-output");
    reader.setDaemon(true);
    reader.start();
  }

  /** Starts {@code io.reuseport.Main} with these arguments, in {@code workDir}, with extra environment. */
  public static ChildServer start(Path workDir, Map<String, String> env, String... args) throws IOException {
    return start(workDir, env, List.of(), args);
  }

  /** Same, with JVM options (system properties) before the main class. */
  public static ChildServer start(Path workDir, Map<String, String> env, List<String> jvmOptions, String... args)
      throws IOException {
    return startUnder(List.of(), workDir, env, jvmOptions, args);
  }

  /**
   * Same, run under {@code wrapper} (e.g. {@code setpriv --bounding-set -bpf}): the JVM is its last argument.
   */
  public static ChildServer startUnder(List<String> wrapper, Path workDir, Map<String, String> env,
                                       List<String> jvmOptions, String... args) throws IOException {
    return start(workDir, env, wrapper, jvmOptions, args);
  }

  /**
   * Same, under a file descriptor limit (soft and hard), set with util-linux's {@code prlimit} as {@code ulimit -n}
   * would.
   */
  public static ChildServer startWithFdLimit(Path workDir, int nofile, Map<String, String> env, String... args)
      throws IOException {
    return start(workDir, env, List.of("prlimit", "--nofile=" + nofile + ":" + nofile, "--"), List.of(), args);
  }

  private static ChildServer start(Path workDir, Map<String, String> env, List<String> prefix,
                                   List<String> jvmOptions, String... args) throws IOException {
    List<String> command = new ArrayList<>(prefix);
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add("io.reuseport.Main");
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true);
    builder.environment().keySet().removeIf(k -> k.startsWith("REUSEPORT_"));
    builder.environment().putAll(env);
    return new ChildServer(builder.start());
  }

  /** Waits for exit (bounded) and returns the exit code. */
  public int awaitExit(long seconds) throws InterruptedException {
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("child did not exit within " + seconds + " s; output: " + output);
    }
    // the last lines may still be in the pipe
    reader.join(TimeUnit.SECONDS.toMillis(5));
    return process.exitValue();
  }

  /** Waits for the ready line and returns the port it names. */
  public int awaitReadyPort(long seconds) throws InterruptedException {
    return awaitOutput(seconds, () -> {
      for (String line : output) {
        Matcher m = READY.matcher(line);
        if (m.find()) {
          return Integer.parseInt(m.group(1));
        }
      }
      return null;
    }, () -> outputEnded
        ? "child exited " + exitCode() + " before ready: " + output
        : "child not ready within " + seconds + " s: " + output);
  }

  /** Waits for the ready line and returns the admin port it names. */
  public int awaitReadyAdminPort(long seconds) throws InterruptedException {
    awaitReadyPort(seconds);
    return adminPort();
  }

  /** The admin port named by the ready line (call once ready). */
  public int adminPort() {
    for (String line : output) {
      Matcher m = ADMIN_PORT.matcher(line);
      if (m.find()) {
        return Integer.parseInt(m.group(1));
      }
    }
    throw new AssertionError("no ready line with an admin port: " + output);
  }

  /** Waits for a line containing {@code text} and returns it. */
  public String awaitLine(String text, long seconds) throws InterruptedException {
    return awaitOutput(seconds, () -> output.stream().filter(l -> l.contains(text)).findFirst().orElse(null),
        () -> "no line with '" + text + "' within " + seconds + " s: " + output);
  }

  /** Waits until {@code count} lines contain {@code text} (e.g. one "abandoned" line per killed takeover). */
  public void awaitLineCount(String text, int count, long seconds) throws InterruptedException {
    awaitOutput(seconds, () -> output.stream().filter(l -> l.contains(text)).count() >= count ? Boolean.TRUE : null,
        () -> count + " lines with '" + text + "' expected within " + seconds + " s: " + output);
  }

  /**
   * Waits until {@code found} gives a value (null: not yet), looking again at each line the child writes. Fails with
   * {@code failure} after {@code seconds}, or as soon as the output has ended without it.
   */
  private <T> T awaitOutput(long seconds, Supplier<T> found, Supplier<String> failure) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    synchronized (newOutput) {
      while (true) {
        T value = found.get();
        if (value != null) {
          return value;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0 || outputEnded) {
          throw new AssertionError(failure.get());
        }
        TimeUnit.NANOSECONDS.timedWait(newOutput, left);
      }
    }
  }

  /** The exit code, once the child has gone (its output ended), for a failure message. */
  private String exitCode() {
    try {
      return process.waitFor(5, TimeUnit.SECONDS) ? Integer.toString(process.exitValue()) : "(still running)";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "(unknown)";
    }
  }

  /** Sends a signal by name ({@code KILL}, {@code INT}, {@code HUP}, ...) with {@code kill -s}. */
  public void signal(String name) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-s", name, Long.toString(process.pid())).inheritIO().start();
    if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      throw new IOException("kill -s " + name + " " + process.pid() + " failed");
    }
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** SIGTERM, as an orchestrator sends it; unlike {@code Process.destroy()} it keeps reading the child's output. */
  public void terminate() {
    process.toHandle().destroy();
  }

  public long pid() {
    return process.pid();
  }

  public List<String> output() {
    return output;
  }

  private void pump() {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
        StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        output.add(line);
        synchronized (newOutput) {
          newOutput.notifyAll();
        }
      }
    } catch (IOException e) {
      // the child is gone
    } finally {
      outputEnded = true;
      synchronized (newOutput) {
        newOutput.notifyAll();
      }
    }
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }
}
