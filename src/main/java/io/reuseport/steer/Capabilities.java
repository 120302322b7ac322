package io.reuseport.steer;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads this process's effective capabilities ({@code CapEff} in {@code /proc/self/status}) to say why
 * {@code bpf(2)} refused: the syscall's EPERM alone does not tell a missing capability from a sysctl or an LSM.
 */
final class Capabilities {

  static final int CAP_SYS_ADMIN = 21;
  static final int CAP_BPF = 39;

  private Capabilities() {
  }

  /** A short explanation of an EPERM from {@code bpf(2)}. */
  static String explainNotPermitted() {
    BigInteger effective = effective();
    if (effective == null) {
      return "not permitted (capabilities unreadable)";
    }
    boolean bpf = effective.testBit(CAP_BPF);
    boolean sysAdmin = effective.testBit(CAP_SYS_ADMIN);
    if (!bpf && !sysAdmin) {
      return "this process has neither CAP_BPF nor CAP_SYS_ADMIN (CapEff " + effective.toString(16) + ")";
    }
    return "refused although " + (bpf ? "CAP_BPF" : "CAP_SYS_ADMIN") + " is effective (a seccomp profile or an"
        + " LSM may block bpf(2); before Linux 6.5 with kernel.unprivileged_bpf_disabled every call needs"
        + " CAP_SYS_ADMIN)";
  }

  private static BigInteger effective() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("CapEff:")) {
          return new BigInteger(line.substring("CapEff:".length()).trim(), 16);
        }
      }
    } catch (IOException | NumberFormatException e) {
      return null;
    }
    return null;
  }
}
