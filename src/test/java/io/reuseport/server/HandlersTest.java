package io.reuseport.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelPipelineException;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.IllegalReferenceCountException;
import io.reuseport.service.EchoService;
import io.reuseport.service.Service;
import io.reuseport.stats.InstanceCounters;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The server's Netty handlers driven without sockets ({@link EmbeddedTcp}, {@link EmbeddedUdp}): what a service can
 * rely on, whatever the network does.
 */
class HandlersTest {

  @Test
  void aFullWriteQueueStopsReadingUntilTheBatchIsFlushed() {
    // Netty counts each queued write's bytes plus about 100 bytes of bookkeeping against the marks
    try (EmbeddedTcp tcp = EmbeddedTcp.connect(new EchoService(), new WriteBufferWaterMark(512, 1_024))) {
      Buffer half = Buffer.buffer("x".repeat(500));
      tcp.read(half);
      assertThat(tcp.isReading()).as("one reply queued, under the high mark").isTrue();
      tcp.read(half);
      assertThat(tcp.isReading()).as("two replies queued, over the high mark").isFalse();
      tcp.readComplete();
      assertThat(tcp.isReading()).as("flushed: reading again").isTrue();
      assertThat(tcp.sent().length()).isEqualTo(1_000);
    }
  }

  /** A lambda handler never thinks about the peer's end: TcpHandler.onEnd's default closes after the replies. */
  @Test
  void aLambdaHandlerClosesWhenThePeerEnds() {
    Service lambda = new Service() {
      @Override
      public TcpHandler onConnect(TcpSession session) {
        return data -> session.write(Buffer.buffer(data.toString().toUpperCase()));
      }

      @Override
      public void onDatagram(Buffer payload, DatagramReply sender) {
      }
    };
    try (EmbeddedTcp tcp = EmbeddedTcp.connect(lambda)) {
      tcp.read(Buffer.buffer("bye")).endInput();
      assertThat(tcp.sent().toString()).isEqualTo("BYE");
      assertThat(tcp.isOpen()).isFalse();
      assertThat(tcp.counters().tcpActive).isZero();
    }
  }

  @Test
  void aHalfClosedPeerGetsItsPendingReplyBeforeTheClose() {
    try (EmbeddedTcp tcp = EmbeddedTcp.connect(new EchoService())) {
      tcp.read(Buffer.buffer("last words")).endInput();
      assertThat(tcp.sent().toString()).isEqualTo("last words");
      assertThat(tcp.isOpen()).isFalse();
      assertThat(tcp.counters().tcpClosed).isEqualTo(1);
      assertThat(tcp.counters().tcpActive).isZero();
      assertThat(tcp.counters().tcpErrors).isZero();
    }
  }

  @Test
  void echoWritesTheReadBufferBackWithoutACopy() {
    ByteBuf in = PooledByteBufAllocator.DEFAULT.directBuffer(3).writeBytes("abc".getBytes(StandardCharsets.UTF_8));
    try (EmbeddedTcp tcp = EmbeddedTcp.connect(new EchoService())) {
      tcp.read(in).readComplete();
      ByteBuf out = tcp.nextSent();
      try {
        assertThat(out.memoryAddress()).as("the very memory read").isEqualTo(in.memoryAddress());
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("abc");
        assertThat(in.refCnt()).as("held by the reply only").isEqualTo(1);
      } finally {
        out.release();
      }
      assertThat(in.refCnt()).isZero();
      assertThat(tcp.counters().tcpBytesOut).isEqualTo(3);
    }
  }

  @Test
  void aBufferKeptAfterTheCallIsReleasedAndItsBytesAreNot() {
    KeepingService keeping = new KeepingService();
    try (EmbeddedTcp tcp = EmbeddedTcp.connect(keeping)) {
      tcp.read(Buffer.buffer("kept")).readComplete();
      assertThatThrownBy(() -> keeping.kept.getBytes()).isInstanceOf(IllegalReferenceCountException.class);
      assertThat(keeping.copy.toString()).isEqualTo("kept");
      assertThat(tcp.isOpen()).isTrue();
    }
  }

  @Test
  void aServiceErrorClosesThatConnectionOnly() {
    Service failing = new KeepingService() {
      @Override
      public TcpHandler onConnect(TcpSession session) {
        return data -> {
          throw new IllegalStateException("bad input");
        };
      }
    };
    try (EmbeddedTcp bad = EmbeddedTcp.connect(failing); EmbeddedTcp good = EmbeddedTcp.connect(new EchoService())) {
      bad.read(Buffer.buffer("x")).readComplete();
      good.read(Buffer.buffer("y")).readComplete();
      assertThat(bad.isOpen()).isFalse();
      assertThat(bad.counters().tcpErrors).isEqualTo(1);
      assertThat(good.sent().toString()).isEqualTo("y");
    }
  }

  @Test
  void eachDatagramIsEchoedToItsSenderAndAnEmptyReplyNeedsARealSocket() {
    InetSocketAddress a = new InetSocketAddress("127.0.0.1", 40_001);
    InetSocketAddress b = new InetSocketAddress("127.0.0.1", 40_002);
    try (EmbeddedUdp udp = EmbeddedUdp.bind(new EchoService())) {
      udp.receive(Buffer.buffer("from a"), a).receive(Buffer.buffer("from b"), b);
      assertThat(udp.replies()).containsExactly(new EmbeddedUdp.Reply(a, Buffer.buffer("from a")),
          new EmbeddedUdp.Reply(b, Buffer.buffer("from b")));
      // the empty datagram reaches the service; its empty echo goes out by sendto(2) on a real socket only
      // (ServerExtensionTest), here it is counted as a drop rather than lost silently
      udp.receive(Buffer.buffer(), a);
      assertThat(udp.replies()).isEmpty();
      assertThat(udp.counters().udpDatagramsIn).isEqualTo(3);
      assertThat(udp.counters().udpReplyDrops).isEqualTo(1);
    }
  }

  @Test
  void aServiceErrorDropsThatDatagramOnly() {
    InetSocketAddress sender = new InetSocketAddress("127.0.0.1", 40_003);
    Service picky = new KeepingService() {
      @Override
      public void onDatagram(Buffer payload, DatagramReply reply) {
        if (payload.toString().equals("bad")) {
          throw new IllegalArgumentException("bad datagram");
        }
        reply.send(payload);
      }
    };
    try (EmbeddedUdp udp = EmbeddedUdp.bind(picky)) {
      udp.receive(Buffer.buffer("bad"), sender).receive(Buffer.buffer("good"), sender);
      assertThat(udp.replies()).extracting(r -> r.payload().toString()).containsExactly("good");
      assertThat(udp.counters().udpErrors).isEqualTo(1);
    }
  }

  @Test
  void aDatagramHandlerServesOneSocketOnly() {
    DatagramHandler handler = new DatagramHandler(new EchoService(), new InstanceCounters(0, "test"));
    EmbeddedChannel first = new EmbeddedChannel();
    EmbeddedChannel second = new EmbeddedChannel();
    try {
      first.pipeline().addLast(handler);
      assertThatThrownBy(() -> second.pipeline().addLast(handler)).isInstanceOf(ChannelPipelineException.class)
          .hasMessageContaining("is not a @Sharable handler");
    } finally {
      first.finishAndReleaseAll();
      second.finishAndReleaseAll();
    }
  }

  /**
   * Keeps the buffer it was handed, against the contract, and a copy of its bytes, as the contract says. Not
   * {@code data.copy()}: that copies into a pooled direct buffer nobody releases, which the leak check reports.
   */
  private static class KeepingService implements Service {
    private Buffer kept;
    private Buffer copy;

    @Override
    public TcpHandler onConnect(TcpSession session) {
      return data -> {
        kept = data;
        copy = Buffer.buffer(data.getBytes());
      };
    }

    @Override
    public void onDatagram(Buffer payload, DatagramReply sender) {
    }
  }
}
