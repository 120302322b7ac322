package io.reuseport.steer;

/** A {@code bpf(2)} or {@code setsockopt} call failed; the message names the call and errno. */
public final class BpfException extends RuntimeException {

  private static final int EPERM = 1;
  private static final int ENOENT = 2;
  private static final int EBUSY = 16;

  private final int errno;

  BpfException(String message, int errno) {
    super(message);
    this.errno = errno;
  }

  public int errno() {
    return errno;
  }

  /** Whether a socket is still held by another {@code REUSEPORT_SOCKARRAY} (one map per socket at a time). */
  public boolean busy() {
    return errno == EBUSY;
  }

  boolean noSuchEntry() {
    return errno == ENOENT;
  }

  /** Whether the process lacks the capability (CAP_BPF, or CAP_SYS_ADMIN on older kernels). */
  public boolean notPermitted() {
    return errno == EPERM;
  }
}
