package io.reuseport.upgrade;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The one small epoll event loop that serves the control socket, apart from the instances' loops: a takeover
 * never competes with traffic, and the control socket outlives the instances while they drain.
 */
final class ControlLoop {

  private static EventLoopGroup group;

  private ControlLoop() {
  }

  static synchronized EventLoopGroup group() {
    if (group == null) {
      group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("reuseport-control", true),
          EpollIoHandler.newFactory());
    }
    return group;
  }

  /** The effective UID of this process, from {@code /proc/self/status}; blocking, read once at start-up. */
  static int ownUid() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Uid:")) {
          return Integer.parseInt(line.split("\\s+")[2]);
        }
      }
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException("cannot read this process's UID from /proc/self/status", e);
    }
    throw new IllegalStateException("no Uid line in /proc/self/status");
  }
}
