package io.reuseport.reliability;

import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.internal.PlatformDependent;
import io.reuseport.app.RunningServer;
import io.reuseport.testsupport.AdminStats;
import io.reuseport.testsupport.AsyncServers;
import io.reuseport.testsupport.VertxClients;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.datagram.DatagramSocket;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.DatagramPacket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Clients that misbehave: each case shows the server stays up, answers the next client, and counts what it refused.
 * Figures (memory, descriptors, drops) are printed as {@code figure: ...} lines for docs/RELIABILITY.md. Vert.x
 * clients throughout; the few JDK sockets do what a {@code NetSocket} cannot, run off the event loops, and say why.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 180, timeUnit = TimeUnit.SECONDS)
class BadInputTest {

  private static final long MIB = 1 << 20;
  private static final int FLOOD_BATCH = 64;

  private RunningServer server;
  private final List<NetSocket> sockets = new ArrayList<>();
  private final List<SocketChannel> channels = new ArrayList<>();

  @AfterEach
  void stop(VertxTestContext test) throws IOException {
    for (SocketChannel ch : channels) {
      ch.close();
    }
    Future<Void> closed = Future.succeededFuture();
    for (NetSocket s : sockets) {
      closed = closed.transform(x -> s.close());
    }
    closed.transform(x -> server == null ? Future.succeededFuture() : server.stop())
        .onComplete(test.succeedingThenComplete());
  }

  @Test
  void thousandsOfConnectionsBeyondTheLimitAreRefusedAndCounted(Vertx vertx, VertxTestContext test) {
    int perInstance = 500;
    int attempts = 1_500;
    HttpClient http = vertx.createHttpClient();
    NetClient client = vertx.createNetClient();
    long[] fdsBefore = new long[1];
    start(new JsonObject().put("maxConnectionsPerInstance", perInstance))
        .compose(v -> openFds(vertx))
        .compose(fds -> {
          fdsBefore[0] = fds;
          Future<Void> chain = Future.succeededFuture();
          for (int i = 0; i < attempts; i++) {
            chain = chain.compose(x -> client.connect(server.port(), VertxClients.LOOPBACK)).map(socket -> {
              sockets.add(socket);
              return null;
            });
          }
          return chain;
        })
        .compose(v -> AdminStats.awaitReport(http, server.adminPort(),
            stats -> AdminStats.total(stats, "tcp", "accepted") + AdminStats.total(stats, "tcp", "rejected")
                >= attempts))
        .compose(v -> Future.all(AdminStats.fresh(http, server.adminPort()), openFds(vertx)))
        .compose(both -> {
          JsonObject stats = both.resultAt(0);
          long active = AdminStats.total(stats, "tcp", "active");
          long rejected = AdminStats.total(stats, "tcp", "rejected");
          test.verify(() -> {
            // each instance got far more than its limit (1,500 fresh 4-tuples over 2 sockets): both are full
            assertThat(active).isEqualTo(2L * perInstance);
            assertThat(rejected).isEqualTo(attempts - 2L * perInstance);
          });
          System.out.printf("figure: limit: %d attempted, %d admitted, %d refused, fds in this JVM +%d%n", attempts,
              active, rejected, both.<Long>resultAt(1) - fdsBefore[0]);
          return closeSockets();
        })
        .compose(v -> AdminStats.awaitReport(http, server.adminPort(),
            stats -> AdminStats.total(stats, "tcp", "active") == 0))
        .compose(v -> assertEchoes(vertx, test))
        .onComplete(test.succeedingThenComplete());
  }

  @Test
  void fiveHundredClientsThatSendWithoutReadingKeepMemoryBounded(Vertx vertx, VertxTestContext test) {
    int clients = 500;
    long perClient = 1024 * 1024;
    HttpClient http = vertx.createHttpClient();
    long[] before = new long[2];
    long[] sent = new long[clients];
    start(new JsonObject())
        .compose(v -> vertx.executeBlocking(() -> {
          before[0] = direct();
          before[1] = heapAfterGc();
          sendWithoutReading(clients, perClient, sent);
          return null;
        }))
        // a connect completes at the handshake; the server may still be accepting
        .compose(v -> AdminStats.awaitReport(http, server.adminPort(),
            stats -> AdminStats.total(stats, "tcp", "active") >= clients))
        .compose(v -> openFds(vertx))
        .compose(fds -> vertx.executeBlocking(() -> {
          long total = Arrays.stream(sent).sum();
          long blocked = Arrays.stream(sent).filter(s -> s < perClient).count();
          long directGrowth = direct() - before[0];
          long heapGrowth = heapAfterGc() - before[1];
          System.out.printf("figure: backpressure: %d clients sent %d MiB without reading (%d blocked),"
              + " direct memory %+d MiB, heap after GC %+d MiB, fds %d%n", clients, total / MIB, blocked,
              directGrowth / MIB, heapGrowth / MIB, fds);
          // 500 outbound queues held at Netty's 64 KiB high-water mark, plus read buffers: far below what was sent
          assertThat(directGrowth).as("direct memory growth").isLessThan(128 * MIB);
          assertThat(heapGrowth).as("heap growth after GC").isLessThan(128 * MIB);
          return null;
        }))
        .compose(v -> assertEchoes(vertx, test))
        .onComplete(test.succeedingThenComplete());
  }

  /**
   * JDK channels: a non-blocking write says exactly when the kernel takes no more bytes, and the client keeps no
   * queue of its own in this JVM's direct memory, which is what the test measures. Blocks: off the event loops.
   */
  private void sendWithoutReading(int clients, long perClient, long[] sent) throws IOException {
    for (int i = 0; i < clients; i++) {
      SocketChannel ch = SocketChannel.open();
      channels.add(ch);
      // a small receive window: the echo backs up into the server soon
      ch.setOption(StandardSocketOptions.SO_RCVBUF, 8 * 1024);
      ch.connect(new InetSocketAddress(VertxClients.LOOPBACK, server.port()));
      ch.configureBlocking(false);
    }
    ByteBuffer chunk = ByteBuffer.allocateDirect(16 * 1024);
    // rounds over every client until each is either done or blocked (the server stopped reading it)
    for (int round = 0; round < 200; round++) {
      boolean progress = false;
      for (int i = 0; i < clients; i++) {
        if (sent[i] < perClient) {
          chunk.clear();
          int n = channels.get(i).write(chunk);
          sent[i] += n;
          progress |= n > 0;
        }
      }
      if (!progress) {
        return;
      }
    }
  }

  @Test
  void resetsMidTransferAndHalfClosesLeaveTheServerServing(Vertx vertx, VertxTestContext test) {
    HttpClient http = vertx.createHttpClient();
    // SO_LINGER 0: close() sends a reset instead of a FIN
    NetClient resetting = vertx.createNetClient(new NetClientOptions().setSoLinger(0));
    Buffer payload = Buffer.buffer(new byte[64 * 1024]);
    start(new JsonObject())
        .compose(v -> {
          Future<Void> chain = Future.succeededFuture();
          for (int i = 0; i < 200; i++) {
            chain = chain.compose(x -> resetting.connect(server.port(), VertxClients.LOOPBACK))
                .compose(socket -> socket.write(payload).compose(written -> socket.close()));
          }
          return chain;
        })
        .compose(v -> vertx.executeBlocking(() -> {
          halfClose(100);
          return null;
        }))
        .compose(v -> AdminStats.awaitReport(http, server.adminPort(),
            stats -> AdminStats.total(stats, "tcp", "active") == 0))
        .compose(v -> AdminStats.fresh(http, server.adminPort()))
        .compose(stats -> {
          System.out.printf("figure: resets: 200 reset mid-transfer, 100 half-closed; tcp resets counted %d,"
              + " errors %d%n", AdminStats.total(stats, "tcp", "resets"), AdminStats.total(stats, "tcp", "errors"));
          return assertEchoes(vertx, test);
        })
        .onComplete(test.succeedingThenComplete());
  }

  /** JDK sockets: a {@code NetSocket} cannot half-close (its {@code end()} closes). Blocks: off the event loops. */
  private void halfClose(int connections) throws IOException {
    for (int i = 0; i < connections; i++) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(VertxClients.LOOPBACK, server.port()), 5_000);
        s.setSoTimeout(10_000);
        byte[] out = new byte[10_000];
        new Random(i).nextBytes(out);
        s.getOutputStream().write(out);
        s.shutdownOutput();
        InputStream in = s.getInputStream();
        assertThat(in.readNBytes(out.length)).as("echo after half-close").isEqualTo(out);
        assertThat(in.read()).as("then the server closes").isEqualTo(-1);
      }
    }
  }

  @Test
  void aUdpFloodNeverClosesTheSocketsAndDropsShowPerInstance(Vertx vertx, VertxTestContext test) {
    int senders = 4;
    int each = 50_000;
    HttpClient http = vertx.createHttpClient();
    long[] backlogBefore = new long[1];
    start(new JsonObject().put("udpReceiveBufferBytes", 256 * 1024))
        .compose(v -> backlogDrops(vertx))
        .compose(drops -> {
          backlogBefore[0] = drops;
          // deployed once the flood is sent
          return vertx.deployVerticle(() -> new Flood(server.port(), each),
              new DeploymentOptions().setInstances(senders));
        })
        .compose(deployment -> vertx.undeploy(deployment))
        .compose(v -> vertx.executeBlocking(() -> emptyDatagramEchoSize()))
        .compose(size -> {
          test.verify(() -> assertThat(size).as("echo of 0 bytes after the flood").isZero());
          return VertxClients.Udp.open(vertx);
        })
        .compose(udp -> echoSize(test, udp, 1).compose(v -> echoSize(test, udp, 65_507)).andThen(x -> udp.close()))
        // a fresh query re-reads the kernel's drop counts
        .compose(v -> Future.all(AdminStats.fresh(http, server.adminPort()), backlogDrops(vertx)))
        .onComplete(test.succeeding(both -> test.verify(() -> {
          JsonArray instances = both.<JsonObject>resultAt(0).getJsonArray("instances");
          long drops = 0;
          long received = 0;
          for (int i = 0; i < instances.size(); i++) {
            JsonObject udp = instances.getJsonObject(i).getJsonObject("udp");
            assertThat(udp.containsKey("drops")).as("instance %d reports its kernel drops", i).isTrue();
            drops += udp.getLong("drops");
            received += udp.getLong("datagramsIn");
          }
          System.out.printf("figure: udp flood: %d sent, %d received, %d dropped at the sockets (per instance %s),"
              + " %d dropped before them (netdev backlog, all traffic of the host)%n", (long) senders * each,
              received, drops, instances.stream().map(o -> ((JsonObject) o).getJsonObject("udp").getLong("drops"))
                  .toList(), both.<Long>resultAt(1) - backlogBefore[0]);
          assertThat(server.udpSocketFds()).as("every UDP socket still open").hasSize(2);
          test.completeNow();
        })));
  }

  /**
   * One flow of the flood on an event loop of its own (each instance of a deployment gets one): {@code count} 1 KiB
   * datagrams as fast as the loop sends them, {@value FLOOD_BATCH} at a time, the next batch once those are written.
   * Its start completes when all are sent. The echoes are read and dropped by Vert.x.
   */
  private static final class Flood extends VerticleBase {
    private final int port;
    private final int count;
    private DatagramSocket socket;

    Flood(int port, int count) {
      this.port = port;
      this.count = count;
    }

    @Override
    public Future<?> start() {
      socket = vertx.createDatagramSocket();
      Promise<Void> sent = Promise.promise();
      sendBatch(count, sent);
      return sent.future();
    }

    @Override
    public Future<?> stop() {
      return socket.close();
    }

    private void sendBatch(int remaining, Promise<Void> sent) {
      if (remaining == 0) {
        sent.tryComplete();
        return;
      }
      int n = Math.min(FLOOD_BATCH, remaining);
      List<Future<Void>> batch = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        batch.add(socket.send(Buffer.buffer(new byte[1_024]), port, VertxClients.LOOPBACK));
      }
      // through the context, not the stack: a send can complete at once
      Future.all(batch).onComplete(written -> {
        if (written.failed()) {
          // e.g. the test's Vertx closing under a timed-out test
          sent.tryFail(written.cause());
        } else {
          context.runOnContext(v -> sendBatch(remaining - n, sent));
        }
      });
    }
  }

  /** A JDK socket: Vert.x's {@code DatagramSocket} cannot send an empty datagram. Blocks: off the event loops. */
  private int emptyDatagramEchoSize() throws IOException {
    try (java.net.DatagramSocket s = new java.net.DatagramSocket(new InetSocketAddress(VertxClients.LOOPBACK, 0))) {
      s.setSoTimeout(10_000);
      s.send(new DatagramPacket(new byte[0], 0, new InetSocketAddress(VertxClients.LOOPBACK, server.port())));
      DatagramPacket in = new DatagramPacket(new byte[16], 16);
      s.receive(in);
      return in.getLength();
    }
  }

  private Future<Void> echoSize(VertxTestContext test, VertxClients.Udp udp, int size) {
    return udp.request(server.port(), Buffer.buffer(new byte[size])).map(reply -> {
      test.verify(() -> assertThat(reply.length()).as("echo of %d bytes after the flood", size).isEqualTo(size));
      return null;
    });
  }

  @Test
  void malformedAdminRequestsGet4xxAndTheServiceIsUnaffected(Vertx vertx, VertxTestContext test) {
    List<String> requests = List.of(
        "GARBAGE\r\n\r\n",
        "GET /" + "a".repeat(10_000) + " HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /stats HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(20_000) + "\r\n\r\n",
        "POST /stats HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n" + "c".repeat(64 * 1024),
        "FOO /stats HTTP/1.1\r\nHost: x\r\n\r\n",
        "DELETE /stats HTTP/1.1\r\nHost: x\r\n\r\n");
    start(new JsonObject())
        .compose(v -> {
          Future<Void> chain = Future.succeededFuture();
          for (int i = 0; i < requests.size(); i++) {
            int index = i;
            chain = chain.compose(x -> rawStatus(vertx, requests.get(index))).map(status -> {
              test.verify(() -> assertThat(status).as("request %d", index).isBetween(400, 499));
              return null;
            });
          }
          return chain;
        })
        .compose(v -> VertxClients.get(vertx.createHttpClient(), server.adminPort(), "/stats"))
        .compose(stats -> {
          test.verify(() -> assertThat(stats.status()).isEqualTo(200));
          return assertEchoes(vertx, test);
        })
        .onComplete(test.succeedingThenComplete());
  }

  private Future<Void> start(JsonObject overrides) {
    return AsyncServers.start(overrides).map(started -> {
      server = started;
      return null;
    });
  }

  private Future<Void> closeSockets() {
    List<Future<Void>> closed = new ArrayList<>();
    sockets.forEach(s -> closed.add(s.close()));
    sockets.clear();
    return Future.all(closed).mapEmpty();
  }

  /** Sends raw bytes and returns the status code of the response's first line, or -1 when closed without one. */
  private Future<Integer> rawStatus(Vertx vertx, String request) {
    return VertxClients.head(vertx, server.adminPort(), Buffer.buffer(request.getBytes(StandardCharsets.US_ASCII)),
        12).map(head -> {
          String line = head.toString(StandardCharsets.US_ASCII);
          return line.startsWith("HTTP/1.") && line.length() >= 12 ? Integer.parseInt(line.substring(9, 12)) : -1;
        });
  }

  private Future<Void> assertEchoes(Vertx vertx, VertxTestContext test) {
    // kept until the exchange ends: Vert.x 5 closes a client nothing refers to when the GC runs
    NetClient client = vertx.createNetClient();
    return client.connect(server.port(), VertxClients.LOOPBACK)
        .compose(socket -> VertxClients.exchange(socket, Buffer.buffer(new byte[] {42}), 1)
            .andThen(echoed -> socket.close()))
        .eventually(client::close)
        .map(echoed -> {
          test.verify(() -> assertThat(echoed.getByte(0)).as("the next client is served").isEqualTo((byte) 42));
          return null;
        });
  }

  /** Packets dropped because a CPU's input backlog was full ({@code /proc/net/softnet_stat}, column 2). */
  private static Future<Long> backlogDrops(Vertx vertx) {
    return vertx.fileSystem().readFile("/proc/net/softnet_stat").map(text -> text.toString().lines()
        .mapToLong(l -> Long.parseLong(l.trim().split("\\s+")[1], 16)).sum());
  }

  private static Future<Long> openFds(Vertx vertx) {
    return vertx.fileSystem().readDir("/proc/self/fd").map(fds -> (long) fds.size());
  }

  /** Direct memory: the JDK's direct buffers, Netty's own counter (no-cleaner buffers) and its pools. */
  private static long direct() {
    long jdk = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
        .filter(b -> b.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
    return jdk + Math.max(0, PlatformDependent.usedDirectMemory())
        + PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
  }

  private static long heapAfterGc() {
    System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
