package io.reuseport.steer;

import io.reuseport.app.RunningServer;
import io.reuseport.testsupport.Clients;
import io.reuseport.testsupport.Servers;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every instance stalled at once, with UDP flows: one instance stalls and its flows move to the other; then the other
 * stalls too. While no instance is healthy every bucket goes home, and every known flow must stay where it is
 * rather than move back to its bucket's home (the instance that is still stuck, for longer). Blocking clients on
 * purpose: what is tested is where the kernel puts each datagram while the loops are blocked. Root only (CAP_BPF).
 */
@Timeout(120)
class EveryInstanceStalledTest {

  private static final int FLOWS = 64;
  private static final long FIRST_STALL_MS = 5_000;
  private static final long SECOND_STALL_MS = 1_500;
  private static final int ANSWER_MS = 15_000;

  @BeforeEach
  void rootOnly() throws IOException {
    Assumptions.assumeTrue(Files.readString(Path.of("/proc/self/status")).contains("\nUid:\t0\t"),
        "skipped: the BPF selector needs root (CAP_BPF) to load");
  }

  @Test
  void aFlowThatMovedStaysWhereItWentWhileEveryInstanceIsOut() throws Exception {
    RunningServer server = Servers.start(new JsonObject().put("service", "stall").put("instances", 2)
        .put("steering", "bpf"));
    List<DatagramSocket> flows = new ArrayList<>();
    try {
      for (int i = 0; i < FLOWS; i++) {
        DatagramSocket flow = new DatagramSocket(new InetSocketAddress(Clients.LOOPBACK, 0));
        flow.setSoTimeout(ANSWER_MS);
        flows.add(flow);
      }
      Socket first = Clients.connectionToInstance(server.port(), 0);
      Socket second = Clients.connectionToInstance(server.port(), 1);
      // a busy machine can hold a fresh JVM's loop up for a moment: start from every instance in the table
      awaitEveryInstanceIn(server);
      int[] before = ask(flows, server.port());

      stall(first, FIRST_STALL_MS);
      awaitSteeredAround(server, 0);
      int[] moved = ask(flows, server.port());
      stall(second, SECOND_STALL_MS);
      awaitSteeredAround(server, 1);
      assertThat(steeredAround(server)).as("both out").containsExactly(true, true);
      // answered once each instance runs again: the instance each datagram was queued on
      int[] whileAllOut = askLate(flows, server.port());
      assertThat(new BufferedReader(new InputStreamReader(second.getInputStream(), StandardCharsets.US_ASCII))
          .readLine()).isEqualTo("stalled");
      assertThat(new BufferedReader(new InputStreamReader(first.getInputStream(), StandardCharsets.US_ASCII))
          .readLine()).isEqualTo("stalled");

      int movedCount = 0;
      for (int i = 0; i < FLOWS; i++) {
        assertThat(moved[i]).as("flow %d while instance 0 was out", i).isEqualTo(1);
        movedCount += before[i] == 0 ? 1 : 0;
        assertThat(whileAllOut[i]).as("flow %d (first on %d) while every instance was out", i, before[i])
            .isEqualTo(1);
      }
      assertThat(movedCount).as("flows that were on instance 0").isPositive();
      first.close();
      second.close();
    } finally {
      flows.forEach(DatagramSocket::close);
      server.stop().await();
    }
  }

  /** Each flow asks its instance's id and waits for the answer. */
  private static int[] ask(List<DatagramSocket> flows, int port) throws IOException {
    int[] ids = new int[flows.size()];
    for (int i = 0; i < ids.length; i++) {
      send(flows.get(i), port);
      ids[i] = receive(flows.get(i));
    }
    return ids;
  }

  /** Each flow asks its instance's id; then the answers are read, as they come. */
  private static int[] askLate(List<DatagramSocket> flows, int port) throws IOException {
    for (DatagramSocket flow : flows) {
      send(flow, port);
    }
    int[] ids = new int[flows.size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = receive(flows.get(i));
    }
    return ids;
  }

  private static void send(DatagramSocket flow, int port) throws IOException {
    byte[] id = "id".getBytes(StandardCharsets.US_ASCII);
    flow.send(new DatagramPacket(id, id.length, new InetSocketAddress(Clients.LOOPBACK, port)));
  }

  private static int receive(DatagramSocket flow) throws IOException {
    DatagramPacket in = new DatagramPacket(new byte[64], 64);
    flow.receive(in);
    return Integer.parseInt(new String(in.getData(), 0, in.getLength(), StandardCharsets.US_ASCII).trim());
  }

  private static void stall(Socket connection, long ms) throws IOException {
    connection.setSoTimeout(ANSWER_MS);
    connection.getOutputStream().write(("stall " + ms + "\n").getBytes(StandardCharsets.US_ASCII));
  }

  private static void awaitSteeredAround(RunningServer server, int id) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!steeredAround(server)[id] && System.nanoTime() < deadline) {
      // poll pause: the steering view has no change event; the loop ends on the flag or the deadline
      Thread.sleep(10);
    }
    assertThat(steeredAround(server)[id]).as("instance %d steered around", id).isTrue();
  }

  private static void awaitEveryInstanceIn(RunningServer server) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while ((steeredAround(server)[0] || steeredAround(server)[1]) && System.nanoTime() < deadline) {
      // poll pause: the steering view has no change event; the loop ends on the flags or the deadline
      Thread.sleep(10);
    }
    assertThat(steeredAround(server)).as("every instance in the table").containsExactly(false, false);
  }

  private static boolean[] steeredAround(RunningServer server) {
    JsonArray instances = server.steering().toJson().getJsonArray("instances");
    boolean[] out = new boolean[instances.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = instances.getJsonObject(i).getBoolean("steeredAround");
    }
    return out;
  }
}
