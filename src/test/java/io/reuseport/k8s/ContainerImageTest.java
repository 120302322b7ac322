package io.reuseport.k8s;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The image built and run by a real container engine: {@code k8s/test/image-test.sh} makes base images from Debian
 * packages, builds the Dockerfile with Podman, runs the image and the dev overlay under {@code podman kube play}
 * (docs/KUBERNETES.md, "Testing the image"). A separate process tree by nature: this test only waits for it.
 */
class ContainerImageTest {

  private static final Path SCRIPT = Path.of("k8s", "test", "image-test.sh");
  private static final Path WORK = Path.of("target", "image-test");
  /** A fresh machine makes both bases (debootstrap) and downloads nothing else; cached bases make it minutes less. */
  private static final long BUDGET_MINUTES = 15;
  private static final List<String> TOOLS = List.of("podman", "runc", "debootstrap", "kubectl", "curl", "ss");
  private static final int LOG_TAIL_LINES = 40;

  @Test
  @Timeout(value = BUDGET_MINUTES + 1, unit = TimeUnit.MINUTES)
  void imageBuildsRunsAndRunsTheDevOverlayUnderPodman() throws IOException, InterruptedException {
    assumeTrue(effectiveUidIsRoot(),
        "not root: rootful Podman with host networking is needed to build and run the image");
    List<String> missing = TOOLS.stream().filter(t -> !Manifests.onPath(t)).collect(Collectors.toList());
    assumeTrue(missing.isEmpty(), () -> "not installed: " + missing + " (.ci/run installs them): image not tested");

    Files.createDirectories(WORK);
    Path log = WORK.resolve("image-test.log");
    Process script = new ProcessBuilder("bash", SCRIPT.toString(), WORK.toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    boolean finished = script.waitFor(BUDGET_MINUTES, TimeUnit.MINUTES);
    if (!finished) {
      // bash runs its trap (removing what it started) once its current child is gone
      script.destroy();
      script.descendants().forEach(ProcessHandle::destroy);
      script.waitFor(30, TimeUnit.SECONDS);
    }
    assertThat(finished).as("%s within %d minutes; last lines of %s:%n%s", SCRIPT, BUDGET_MINUTES, log, tail(log))
        .isTrue();
    assertThat(script.exitValue()).as("%s exit code; last lines of %s:%n%s", SCRIPT, log, tail(log)).isZero();
    assertThat(Files.readAllLines(log, StandardCharsets.UTF_8)).as("%s output", SCRIPT)
        .anyMatch(l -> l.endsWith("image-test: PASS"));
  }

  private static boolean effectiveUidIsRoot() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.UTF_8)) {
      if (line.startsWith("Uid:")) {
        return line.split("\\s+")[2].equals("0");
      }
    }
    return false;
  }

  private static String tail(Path log) throws IOException {
    List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
    return String.join(System.lineSeparator(), lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES),
        lines.size()));
  }
}
