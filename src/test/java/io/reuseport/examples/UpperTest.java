package io.reuseport.examples;

// tag::test[]
import io.reuseport.app.RunningServer;
import io.reuseport.testkit.ServerUnderTest;
import io.vertx.core.net.NetClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@ServerUnderTest(service = "upper")
class UpperTest {
  @RepeatedTest(20)
  void shouts(RunningServer server, NetClient client, VertxTestContext test) {
    client.connect(server.port(), "127.0.0.1").onComplete(test.succeeding(socket -> {
      socket.handler(data -> test.verify(() -> {
        assertThat(data.toString()).isEqualTo("HI");
        test.completeNow();
      }));
      socket.write("hi");
    }));
  }
}
// end::test[]
