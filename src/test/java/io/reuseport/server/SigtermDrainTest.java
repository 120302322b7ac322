package io.reuseport.server;

import io.reuseport.testsupport.ChildServer;
import io.reuseport.testsupport.Clients;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

// Blocking by design: a child JVM gets a real SIGTERM; the test waits on its exit and a java.net transfer.
/**
 * SIGTERM drains: a transfer under way completes, then the process exits 0 within the drain timeout.
 */
@Timeout(120)
class SigtermDrainTest {

  private static final int CHUNK = 64 * 1024;
  private static final int CHUNKS = 32;

  @TempDir
  Path dir;

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"reuseport", "shared"})
  void transferUnderWayCompletesThenProcessExitsZero(String balancing) throws Exception {
    ChildServer child = ChildServer.start(dir, Map.of(), "--host", "127.0.0.1", "--port", "0", "--admin-port", "0",
        "--instances", "2", "--balancing", balancing, "--drain-timeout-seconds", "20");
    try (child; Socket s = Clients.connect(child.awaitReadyPort(60))) {
      OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      Random random = new Random(7);
      byte[] chunk = new byte[CHUNK];
      byte[] echoed = new byte[CHUNK];
      for (int i = 0; i < CHUNKS; i++) {
        if (i == CHUNKS / 2) {
          child.terminate();
        }
        random.nextBytes(chunk);
        out.write(chunk);
        in.readNBytes(echoed, 0, CHUNK);
        assertThat(Arrays.equals(chunk, echoed)).as("chunk %d intact", i).isTrue();
      }
      s.shutdownOutput();
      assertThat(in.read()).as("server closes after our end").isEqualTo(-1);
      assertThat(child.awaitExit(30)).as("exit code; output %s", child.output()).isZero();
      assertThat(child.output()).anyMatch(l -> l.contains("SIGTERM received: draining"));
    }
  }
}
