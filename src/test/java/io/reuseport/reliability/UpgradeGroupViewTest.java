package io.reuseport.reliability;

import io.reuseport.testsupport.Admin;
import io.reuseport.testsupport.ChildServer;
import io.reuseport.testsupport.Clients;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What each process of an upgrade says about the port's group: after a takeover the old process does not take the
 * sockets it handed over for another process's; after a plain upgrade (a second server started on the port) the
 * old process does not claim that its BPF selector still locks the newcomer out, once the newcomer's own selector
 * sends it every new connection. Real processes, blocking on their output and on sockets.
 */
@Timeout(180)
class UpgradeGroupViewTest {

  @TempDir
  Path dir;

  @Test
  void afterATakeoverTheOldProcessDoesNotSeeItsSuccessorAsAStranger() throws Exception {
    Path control = dir.resolve("control.sock");
    // the kernel's hash: the steering under which the old process also warned about tcp_migrate_req
    ChildServer old = ChildServer.start(dir, Map.of(), "--host", "127.0.0.1", "--port", "0", "--admin-port", "0",
        "--instances", "2", "--steering", "kernel", "--stats-interval-ms", "200", "--drain-timeout-seconds", "7",
        "--control-socket", control.toString());
    try (old) {
      int port = old.awaitReadyPort(60);
      old.awaitLine("control socket " + control, 60);
      // held open: the old process drains it for 7 s after the hand-over, long enough to re-read the group
      try (Socket held = Clients.connect(port)) {
        echo(held, 1);
        ChildServer upgraded = ChildServer.start(dir, Map.of(), "--host", "127.0.0.1", "--admin-port", "0",
            "--instances", "2", "--steering", "kernel", "--takeover", control.toString());
        try (upgraded) {
          upgraded.awaitReadyPort(60);
          assertThat(old.awaitExit(60)).as("old exit code; output %s", old.output()).isZero();
          assertThat(old.output()).anyMatch(l -> l.contains("handing over and draining"));
          assertThat(old.output()).noneMatch(l -> l.contains("another process joined"))
              .noneMatch(l -> l.contains("tcp_migrate_req is 0 and another process shares"));
        }
      }
    }
  }

  @Test
  void afterAPlainUpgradeTheOldProcessNoLongerClaimsToLockTheGroup() throws Exception {
    Assumptions.assumeTrue(Files.readString(Path.of("/proc/self/status")).contains("\nUid:\t0\t"),
        "skipped: the BPF selector needs root (CAP_BPF) to load");
    ChildServer old = ChildServer.start(dir, Map.of(), "--host", "127.0.0.1", "--port", "0", "--admin-port", "0",
        "--instances", "2", "--steering", "bpf");
    try (old) {
      int port = old.awaitReadyPort(60);
      int oldAdmin = old.adminPort();
      ChildServer upgraded = ChildServer.start(dir, Map.of(), "--host", "127.0.0.1", "--admin-port", "0",
          "--instances", "2", "--steering", "bpf", "--port", Integer.toString(port));
      try (upgraded) {
        int newAdmin = upgraded.awaitReadyAdminPort(60);
        // the newcomer attached its selector last: the group is its own, the old process's sockets are locked out
        JsonObject before = Admin.freshStats(oldAdmin);
        assertThat(before.getJsonObject("group").getInteger("foreignTcp")).isEqualTo(2);
        List<Socket> held = new ArrayList<>();
        try {
          for (int i = 0; i < 8; i++) {
            Socket s = Clients.connect(port);
            held.add(s);
            echo(s, i);
          }
          JsonObject oldView = Admin.freshStats(oldAdmin);
          assertThat(oldView.getJsonObject("totals").getJsonObject("tcp").getLong("accepted"))
              .as("connections the old process got").isZero();
          assertThat(oldView.getJsonObject("steering").getBoolean("locksGroup")).as("old: %s", oldView).isFalse();
          assertThat(oldView.getJsonObject("group").getBoolean("foreignLockedOut")).isFalse();
          assertThat(old.output()).anyMatch(l -> l.contains("our BPF selector no longer steers the group"));
          JsonObject newView = Admin.freshStats(newAdmin);
          assertThat(newView.getJsonObject("steering").getBoolean("locksGroup")).as("new: %s", newView).isTrue();
          assertThat(newView.getJsonObject("group").getBoolean("foreignLockedOut")).isTrue();
        } finally {
          for (Socket s : held) {
            s.close();
          }
        }
      }
    }
  }

  private static void echo(Socket socket, int value) throws IOException {
    socket.getOutputStream().write(value);
    assertThat(socket.getInputStream().read()).isEqualTo(value);
  }
}
