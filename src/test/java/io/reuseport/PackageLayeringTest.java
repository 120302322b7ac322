package io.reuseport;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The packages' layering, read from the main sources: every {@code io.reuseport} name a file mentions (imports,
 * fully qualified names, Javadoc links) is a dependency of its package. Each package uses only packages of its own
 * layer or below, and the packages form no cycle. So nothing below the composition root ({@code app}) imports it,
 * and the building blocks (server, admin, stats, steer, service, config) know nothing of what wires them together.
 */
class PackageLayeringTest {

  private static final Path SOURCES = Path.of("src/main/java/io/reuseport");
  /** The package {@code io.reuseport} itself: the command line. */
  private static final String TOP = "(io.reuseport)";

  /** Lowest first. A new package needs a place here. */
  private static final List<Set<String>> LAYERS = List.of(
      Set.of("config", "netty", "metrics"),
      Set.of("service", "steer", "stats", "http"),
      Set.of("admin", "server"),
      Set.of("app"),
      Set.of("upgrade", "load"),
      Set.of(TOP));

  private static final Pattern PACKAGE = Pattern.compile("(?m)^package io\\.reuseport(?:\\.([a-z]+))?;");
  /** {@code io.reuseport.pkg.Class} or {@code io.reuseport.Class}. */
  private static final Pattern NAME = Pattern.compile("\\bio\\.reuseport\\.(?:([a-z]+)\\.)?[A-Z]");

  /** Package to the packages it uses, with one file and line that shows each use. */
  private static final Map<String, Map<String, String>> USES = new TreeMap<>();

  @BeforeAll
  static void readSources() throws IOException {
    List<Path> files;
    try (Stream<Path> walk = Files.walk(SOURCES)) {
      files = walk.filter(p -> p.toString().endsWith(".java")).sorted().toList();
    }
    assertThat(files).as("main sources under " + SOURCES).isNotEmpty();
    for (Path file : files) {
      String text = Files.readString(file);
      Matcher declared = PACKAGE.matcher(text);
      assertThat(declared.find()).as(file + " declares an io.reuseport package").isTrue();
      String from = packageName(declared.group(1));
      Map<String, String> uses = USES.computeIfAbsent(from, k -> new TreeMap<>());
      String[] lines = text.split("\n", -1);
      for (int i = 0; i < lines.length; i++) {
        Matcher used = NAME.matcher(lines[i]);
        while (used.find()) {
          String to = packageName(used.group(1));
          if (!to.equals(from)) {
            uses.putIfAbsent(to, SOURCES.relativize(file) + ":" + (i + 1) + ": " + lines[i].trim());
          }
        }
      }
    }
  }

  @Test
  void everyPackageHasALayer() {
    List<String> placed = LAYERS.stream().flatMap(Set::stream).toList();
    assertThat(USES.keySet()).as("packages of the main sources; give a new one its layer in LAYERS")
        .allMatch(placed::contains);
  }

  @Test
  void noPackageUsesOneOfAHigherLayer() {
    List<String> upward = new ArrayList<>();
    USES.forEach((from, uses) -> uses.forEach((to, where) -> {
      if (layerOf(to) > layerOf(from)) {
        upward.add(from + " -> " + to + " (" + where + ")");
      }
    }));
    assertThat(upward).as("uses of a higher layer").isEmpty();
  }

  @Test
  void thePackagesFormNoCycle() {
    List<String> cycles = new ArrayList<>();
    Set<Set<String>> reported = new HashSet<>();
    for (String start : USES.keySet()) {
      List<String> path = cycleThrough(start, start, new ArrayList<>(List.of(start)), new TreeSet<>());
      // each cycle once, not once per package on it
      if (path != null && reported.add(new TreeSet<>(path))) {
        StringBuilder shown = new StringBuilder(String.join(" -> ", path));
        for (int i = 0; i + 1 < path.size(); i++) {
          shown.append("\n  ").append(USES.get(path.get(i)).get(path.get(i + 1)));
        }
        cycles.add(shown.toString());
      }
    }
    assertThat(cycles).as("package cycles").isEmpty();
  }

  @Test
  void theBuildingBlocksDoNotKnowTheCompositionRoot() {
    // the point of the layers, spelt out: what the root wires together never reaches back up to it
    for (String block : List.of("server", "admin", "stats", "steer", "service", "config", "netty", "metrics")) {
      assertThat(USES.getOrDefault(block, Map.of()).keySet()).as(block + " uses")
          .doesNotContain("app", "upgrade", "load", TOP);
    }
  }

  /** A path from {@code at} back to {@code start}, or null. */
  private static List<String> cycleThrough(String start, String at, List<String> path, Set<String> seen) {
    for (String next : USES.getOrDefault(at, Map.of()).keySet()) {
      if (next.equals(start)) {
        List<String> found = new ArrayList<>(path);
        found.add(start);
        return found;
      }
      if (seen.add(next)) {
        path.add(next);
        List<String> found = cycleThrough(start, next, path, seen);
        if (found != null) {
          return found;
        }
        path.remove(path.size() - 1);
      }
    }
    return null;
  }

  private static String packageName(String sub) {
    return sub == null ? TOP : sub;
  }

  private static int layerOf(String pkg) {
    for (int i = 0; i < LAYERS.size(); i++) {
      if (LAYERS.get(i).contains(pkg)) {
        return i;
      }
    }
    return LAYERS.size();
  }
}
