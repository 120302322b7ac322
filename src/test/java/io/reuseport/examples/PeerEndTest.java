package io.reuseport.examples;

import io.reuseport.app.RunningServer;
import io.reuseport.service.Service;
import io.reuseport.service.ServiceContext;
import io.reuseport.service.ServiceProvider;
import io.reuseport.testsupport.AsyncServers;
import io.reuseport.testsupport.VertxClients;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A service that never thinks about the peer's end (a lambda {@code TcpHandler}, as {@link UpperCaseService})
 * leaks no connection: {@code TcpHandler.onEnd}'s default closes it once the replies are written. The control, a
 * handler whose {@code onEnd} does nothing, must leave every connection open in CLOSE-WAIT.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class PeerEndTest {

  private static final int CYCLES = 300;
  /** {@code /proc/net/tcp}'s state of a socket whose peer has closed and which we have not closed yet. */
  private static final String CLOSE_WAIT = "08";

  private NetClient client;
  private RunningServer server;

  @BeforeEach
  void client(Vertx vertx) {
    client = vertx.createNetClient();
  }

  @AfterEach
  void stop(VertxTestContext test) {
    client.close()
        .compose(v -> server == null ? Future.succeededFuture() : server.stop())
        .onComplete(test.succeedingThenComplete());
  }

  @Test
  void aLambdaServiceClosesEveryConnectionItsPeerClosed(Vertx vertx, VertxTestContext test) {
    cycles("upper")
        .compose(v -> AsyncServers.awaitTotal(vertx, server, "tcp", "closed", CYCLES))
        .compose(v -> AsyncServers.total(server, "tcp", "active"))
        .onComplete(test.succeeding(active -> test.verify(() -> {
          assertThat(active).isZero();
          assertThat(serverSideSockets(server.port(), CLOSE_WAIT)).isZero();
          test.completeNow();
        })));
  }

  @Test
  void theControlAnOnEndThatDoesNothingLeavesThemOpen(Vertx vertx, VertxTestContext test) {
    cycles("upper-keeps-open")
        .compose(v -> awaitKernel(vertx, () -> serverSideSockets(server.port(), CLOSE_WAIT) == CYCLES))
        .compose(v -> AsyncServers.total(server, "tcp", "active"))
        .onComplete(test.succeeding(active -> test.verify(() -> {
          assertThat(active).isEqualTo(CYCLES);
          test.completeNow();
        })));
  }

  /** Starts the server, then connects, sends, reads the answer and closes, {@code CYCLES} times. */
  private Future<Void> cycles(String service) {
    // the control's connections never close: its drain gives up on them after a second
    return AsyncServers.start(new JsonObject().put("service", service).put("drainTimeoutSeconds", 1))
        .compose(started -> {
          server = started;
          Future<Void> chain = Future.succeededFuture();
          for (int i = 0; i < CYCLES; i++) {
            chain = chain.compose(v -> client.connect(server.port(), VertxClients.LOOPBACK))
                .compose(socket -> VertxClients.exchange(socket, Buffer.buffer("hi"), 2)
                    .compose(reply -> {
                      assertThat(reply.toString()).isEqualTo("HI");
                      return socket.close();
                    }));
          }
          return chain;
        });
  }

  /** Completes once {@code holds} does, checked every 20 ms off the event loop; the test's timeout bounds it. */
  private static Future<Void> awaitKernel(Vertx vertx, BooleanSupplier holds) {
    Promise<Void> done = Promise.promise();
    long timer = vertx.setPeriodic(20, id -> vertx.executeBlocking(holds::getAsBoolean).onSuccess(yes -> {
      if (yes) {
        done.tryComplete();
      }
    }));
    return done.future().andThen(v -> vertx.cancelTimer(timer));
  }

  /** Sockets with local port {@code port} in {@code state} (two hex digits), from /proc/net/tcp and tcp6. */
  private static long serverSideSockets(int port, String state) {
    String localPort = String.format(Locale.ROOT, ":%04X", port);
    long count = 0;
    for (String file : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      try {
        count += Files.readAllLines(Path.of(file)).stream().skip(1)
            .map(line -> line.trim().split("\\s+"))
            .filter(fields -> fields[1].endsWith(localPort) && fields[3].equals(state))
            .count();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return count;
  }

  /** The control: upper case, but a handler whose {@code onEnd} does nothing, as every lambda's did before. */
  public static final class KeepsOpenProvider implements ServiceProvider {
    @Override
    public String name() {
      return "upper-keeps-open";
    }

    @Override
    public Service create(ServiceContext context) {
      Service upper = new UpperCaseService();
      return new Service() {
        @Override
        public TcpHandler onConnect(TcpSession session) {
          TcpHandler shouting = upper.onConnect(session);
          return new TcpHandler() {
            @Override
            public void onData(Buffer data) throws Exception {
              shouting.onData(data);
            }

            @Override
            public void onEnd(TcpSession ended) {
            }
          };
        }

        @Override
        public void onDatagram(Buffer payload, DatagramReply sender) throws Exception {
          upper.onDatagram(payload, sender);
        }
      };
    }
  }
}
