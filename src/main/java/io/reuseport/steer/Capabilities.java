package io.reuseport.steer;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads this process's effective and bounding capabilities ({@code /proc/self/status}) to say why
 * {@code bpf(2)} refused: the syscall's EPERM alone does not tell a missing capability from a sysctl or an LSM.
 */
final class Capabilities {

  static final int CAP_SYS_ADMIN = 21;
  static final int CAP_BPF = 39;

  private Capabilities() {
  }

  /** A short explanation of an EPERM from {@code bpf(2)}. */
  static String explainNotPermitted() {
    BigInteger effective = read("CapEff:");
    BigInteger bounding = read("CapBnd:");
    if (effective == null) {
      return "not permitted (capabilities unreadable)";
    }
    boolean bpf = effective.testBit(CAP_BPF);
    boolean sysAdmin = effective.testBit(CAP_SYS_ADMIN);
    if (!bpf && !sysAdmin && bounding != null && bounding.testBit(CAP_BPF)) {
      // what Kubernetes gives a non-root container with capabilities.add: [BPF]
      return "this process has neither CAP_BPF nor CAP_SYS_ADMIN effective: CAP_BPF is in its bounding set, but a"
          + " non-root user gets it only as an ambient or file capability (see docs/KUBERNETES.md) (CapEff "
          + effective.toString(16) + ")";
    }
    if (!bpf && !sysAdmin) {
      return "this process has neither CAP_BPF nor CAP_SYS_ADMIN (CapEff " + effective.toString(16) + ")";
    }
    return "refused although " + (bpf ? "CAP_BPF" : "CAP_SYS_ADMIN") + " is effective (a seccomp profile or an"
        + " LSM may block bpf(2); before Linux 6.5 with kernel.unprivileged_bpf_disabled every call needs"
        + " CAP_SYS_ADMIN)";
  }

  private static BigInteger read(String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(field)) {
          return new BigInteger(line.substring(field.length()).trim(), 16);
        }
      }
    } catch (IOException | NumberFormatException e) {
      return null;
    }
    return null;
  }
}
