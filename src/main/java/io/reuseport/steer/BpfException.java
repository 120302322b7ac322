package io.reuseport.steer;

/** A {@code bpf(2)} or {@code setsockopt} call failed; the message names the call and errno. */
public final class BpfException extends RuntimeException {

  private static final int EPERM = 1;

  private final int errno;

  BpfException(String message, int errno) {
    super(message);
    this.errno = errno;
  }

  public int errno() {
    return errno;
  }

  /** Whether the process lacks the capability (CAP_BPF, or CAP_SYS_ADMIN on older kernels). */
  public boolean notPermitted() {
    return errno == EPERM;
  }
}
