package io.reuseport.server;

import io.netty.channel.uring.IoUring;
import io.reuseport.stats.KernelSockets;
import io.reuseport.testsupport.AsyncServers;
import io.reuseport.testsupport.ChildServer;
import io.reuseport.testsupport.VertxClients;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

// Blocking where a separate JVM runs (Netty's native loading must fail in a fresh process); in-process tests async.
/**
 * The transport is what was asked for, or start-up stops: reuseport never falls back to NIO silently.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
// vertx-junit5 bounds its test contexts by its own @Timeout only (30 s without); JUnit's bounds the rest
@io.vertx.junit5.Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class TransportTest {

  @TempDir
  Path dir;

  @Test
  void ioUringOnRequest(Vertx vertx, VertxTestContext test) {
    assumeTrue(IoUring.isAvailable(), () -> "io_uring unavailable here: " + IoUring.unavailabilityCause());
    AsyncServers.start(new JsonObject().put("transport", "io_uring").put("instances", 2))
        .onComplete(test.succeeding(server -> {
          test.verify(() -> {
            assertThat(server.transport()).isEqualTo("io_uring");
            assertThat(KernelSockets.tcpListeners(server.port())).hasSize(2);
            assertThat(KernelSockets.udpSockets(server.port())).hasSize(2);
          });
          NetClient client = vertx.createNetClient();
          client.connect(server.port(), VertxClients.LOOPBACK)
              .compose(socket -> VertxClients.exchange(socket, Buffer.buffer(new byte[] {5}), 1)
                  .andThen(echoed -> socket.close()))
              .eventually(client::close)
              .eventually(server::stop)
              .onComplete(test.succeeding(echoed -> test.verify(() -> {
                assertThat(echoed.getByte(0)).isEqualTo((byte) 5);
                test.completeNow();
              })));
        }));
  }

  @Test
  void reuseportRefusesToStartWhenTheNativeLibraryCannotLoad() throws Exception {
    // Netty unpacks its native library into this directory (java.io.tmpdir by default); a file where a directory
    // should be makes it fail, as a read-only or noexec /tmp does in a container
    Path notADirectory = Files.writeString(dir.resolve("not-a-dir"), "");
    List<String> jvm = List.of("-Dio.netty.native.workdir=" + notADirectory.resolve("x"));
    ChildServer child = ChildServer.start(dir, Map.of(), jvm, "--host", "127.0.0.1", "--port", "0",
        "--admin-port", "0");
    assertThat(child.awaitExit(60)).as("output %s", child.output()).isEqualTo(1);
    assertThat(child.output()).anyMatch(l -> l.startsWith("reuseport-server: transport epoll is unavailable: ")
        && l.contains("--balancing shared --transport nio"));
    assertThat(child.output()).noneMatch(l -> l.contains("ready:"));

    ChildServer shared = ChildServer.start(dir, Map.of(), jvm, "--host", "127.0.0.1", "--port", "0",
        "--admin-port", "0", "--balancing", "shared", "--instances", "2");
    try (shared) {
      shared.awaitReadyPort(60);
      assertThat(shared.output()).anyMatch(l -> l.contains("shared balancing runs on nio"));
      assertThat(shared.output()).anyMatch(l -> l.contains("ready: transport nio, balancing shared"));
      shared.terminate();
      assertThat(shared.awaitExit(30)).isZero();
    }
  }
}
