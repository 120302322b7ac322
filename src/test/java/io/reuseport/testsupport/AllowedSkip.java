package io.reuseport.testsupport;

import io.netty.channel.uring.IoUring;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * The skips a CI run as root accepts ({@link CiSkipGuard}), each for named test classes, recognised by a fragment of
 * the skip's message, and accepted only while its check confirms that this machine cannot run the test. Every other
 * skip (no root, a tool {@code .ci/run} installs, epoll missing) fails such a run. The list and the reasons are in
 * docs/RELIABILITY.md, "Tests"; keep both in step.
 */
enum AllowedSkip {

  IO_URING("Netty's io_uring transport is unavailable: a kernel without io_uring, or with it disabled"
      + " (kernel.io_uring_disabled, a container's seccomp profile)", "io_uring unavailable",
      () -> !IoUring.isAvailable(), "TransportTest", "ConnectionAcceptorTest", "SteeringStallTest", "LockedGroupTest"),
  CGROUP_V1_CPU("no cgroup v1 CPU controller at /sys/fs/cgroup/cpu (a cgroup v2 only machine): the test gives single"
      + " threads a CPU quota through it", "cgroup v1 CPU controller",
      () -> !Files.exists(Path.of("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")), "StarvedLoopsTest"),
  KUBECTL("kubectl is not installed: .ci/run does not install it (Debian 12 has only kubernetes-client 1.20)",
      "kubectl is not on the PATH", () -> !onPath("kubectl"), "ManifestsTest"),
  IMAGE_KUBECTL("kubectl is not installed (.ci/run does not install it) while the image test's"
      + " other tools are", "not installed: [kubectl]", () -> !onPath("kubectl")
      && List.of("podman", "runc", "debootstrap", "curl", "ss").stream().allMatch(AllowedSkip::onPath),
      "ContainerImageTest"),
  PYTHON("python3 (the foreign process, stranger or peer of another program) is not installed", "python3",
      () -> !Files.isExecutable(Path.of("/usr/bin/python3")) || !onPath("python3"), "LockedGroupTest",
      "PortHijackTest", "ControlSocketPeerTest", "ForeignMemberTest", "HttpSteeringTest"),
  TCP_MIGRATE_REQ("net.ipv4.tcp_migrate_req is not 0 on this host: the kernel would migrate a closing listener's"
      + " queue without the selector, so the selector's part cannot be seen (the tests do not change a host sysctl)",
      "tcp_migrate_req is not 0", AllowedSkip::migrateReqSet, "SelectorMigrateTest", "SteeringMigrateTest"),
  HANDOVER_RACE("SIGTERM reached the new process after the hand-over (a race the test cannot steer): the remaining"
      + " points of the protocol were not tried in that run", "came after the hand-over", () -> true,
      "TakeoverSignalsTest");

  private final String reason;
  private final String messageFragment;
  private final BooleanSupplier machineCannotRunIt;
  private final Set<String> testClasses;

  AllowedSkip(String reason, String messageFragment, BooleanSupplier machineCannotRunIt, String... testClasses) {
    this.reason = reason;
    this.messageFragment = messageFragment;
    this.machineCannotRunIt = machineCannotRunIt;
    this.testClasses = Set.of(testClasses);
  }

  /** The entry that covers a skip of {@code testClass} (simple name) with this message, if any. */
  static Optional<AllowedSkip> matching(String testClass, String message) {
    return Arrays.stream(values())
        .filter(s -> s.testClasses.contains(testClass) && message != null && message.contains(s.messageFragment))
        .findFirst();
  }

  String reason() {
    return reason;
  }

  /** Whether this machine really cannot run the test (checked when the skip happens, not trusted from it). */
  boolean confirmed() {
    return machineCannotRunIt.getAsBoolean();
  }

  private static boolean migrateReqSet() {
    try {
      return !Files.readString(Path.of("/proc/sys/net/ipv4/tcp_migrate_req")).trim().equals("0");
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean onPath(String tool) {
    String path = System.getenv("PATH");
    return path != null && Arrays.stream(path.split(File.pathSeparator))
        .anyMatch(dir -> Files.isExecutable(Path.of(dir, tool)));
  }
}
