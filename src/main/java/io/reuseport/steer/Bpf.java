package io.reuseport.steer;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

import java.nio.charset.StandardCharsets;

/**
 * The project's only route to {@code bpf(2)} and {@code setsockopt} by descriptor: JNA over libc's
 * {@code syscall}, since Java 17 has no stable foreign-function API. Attributes are laid out by hand after
 * {@code union bpf_attr} (include/uapi/linux/bpf.h); unused bytes stay zero, as the kernel requires. x86_64 only
 * (the syscall number); every failure is a {@link BpfException} carrying errno.
 */
final class Bpf {

  /** {@code __NR_bpf}: 321 on x86_64, 280 on arm64 (the generic table); 0 where we do not know it. */
  private static final long SYS_BPF = sysBpf(System.getProperty("os.arch", ""));
  private static final int SOL_SOCKET = 1;
  private static final int SO_ATTACH_REUSEPORT_EBPF = 52;
  // commands
  private static final int MAP_CREATE = 0;
  private static final int MAP_LOOKUP_ELEM = 1;
  private static final int MAP_UPDATE_ELEM = 2;
  private static final int MAP_DELETE_ELEM = 3;
  private static final int PROG_LOAD = 5;
  // types
  static final int MAP_TYPE_ARRAY = 2;
  static final int MAP_TYPE_LRU_HASH = 9;
  static final int MAP_TYPE_REUSEPORT_SOCKARRAY = 20;
  static final int PROG_TYPE_SK_REUSEPORT = 21;
  static final int ATTACH_SK_REUSEPORT_SELECT = 39;
  static final int ATTACH_SK_REUSEPORT_SELECT_OR_MIGRATE = 40;
  /** Big enough for every field used here, smaller than any kernel's {@code union bpf_attr}. */
  private static final int ATTR_BYTES = 128;
  private static final int VERIFIER_LOG_BYTES = 64 * 1024;
  private static final int LOG_LEVEL_ERRORS = 1;

  interface LibC extends Library {
    long syscall(long number, int cmd, Pointer attr, int size) throws LastErrorException;

    int setsockopt(int fd, int level, int option, Pointer value, int length) throws LastErrorException;

    int close(int fd) throws LastErrorException;
  }

  private static volatile LibC libc;

  private Bpf() {
  }

  static long sysBpf(String arch) {
    switch (arch) {
      case "amd64":
      case "x86_64":
        return 321;
      case "aarch64":
        return 280;
      default:
        return 0;
    }
  }

  private static LibC libc() {
    if (libc == null) {
      synchronized (Bpf.class) {
        if (libc == null) {
          libc = Native.load("c", LibC.class);
        }
      }
    }
    return libc;
  }

  /** {@code BPF_MAP_CREATE}: a new map's descriptor. */
  static int createMap(int type, int keySize, int valueSize, int maxEntries, String name) {
    Memory attr = attr();
    attr.setInt(0, type);
    attr.setInt(4, keySize);
    attr.setInt(8, valueSize);
    attr.setInt(12, maxEntries);
    putName(attr, 28, name);
    return (int) call(MAP_CREATE, attr, "BPF_MAP_CREATE " + name);
  }

  /** {@code BPF_MAP_UPDATE_ELEM} of a 4-byte key and a 4-byte value (a slot, or a socket's descriptor). */
  static void updateElement(int mapFd, int key, int value) {
    Memory keyMem = new Memory(4);
    keyMem.setInt(0, key);
    Memory valueMem = new Memory(4);
    valueMem.setInt(0, value);
    Memory attr = attr();
    attr.setInt(0, mapFd);
    attr.setPointer(8, keyMem);
    attr.setPointer(16, valueMem);
    attr.setLong(24, 0); // BPF_ANY
    call(MAP_UPDATE_ELEM, attr, "BPF_MAP_UPDATE_ELEM");
  }

  /** {@code BPF_MAP_LOOKUP_ELEM} of a 4-byte key and an 8-byte value (a counter). */
  static long lookupLong(int mapFd, int key) {
    Memory keyMem = new Memory(4);
    keyMem.setInt(0, key);
    Memory valueMem = new Memory(8);
    Memory attr = attr();
    attr.setInt(0, mapFd);
    attr.setPointer(8, keyMem);
    attr.setPointer(16, valueMem);
    call(MAP_LOOKUP_ELEM, attr, "BPF_MAP_LOOKUP_ELEM");
    return valueMem.getLong(0);
  }

  /** {@code BPF_MAP_DELETE_ELEM} of a 4-byte key. */
  static void deleteElement(int mapFd, int key) {
    Memory keyMem = new Memory(4);
    keyMem.setInt(0, key);
    Memory attr = attr();
    attr.setInt(0, mapFd);
    attr.setPointer(8, keyMem);
    call(MAP_DELETE_ELEM, attr, "BPF_MAP_DELETE_ELEM");
  }

  /**
   * {@code BPF_PROG_LOAD} of an {@code SK_REUSEPORT} program; on rejection the exception carries the verifier's
   * log, the only explanation the kernel gives.
   */
  static int loadProgram(byte[] instructions, int expectedAttachType, String name) {
    try {
      // without a log first: a long program's log of a successful load can overflow any buffer (ENOSPC)
      return loadProgram(instructions, expectedAttachType, name, false);
    } catch (BpfException e) {
      if (e.notPermitted()) {
        throw e;
      }
      return loadProgram(instructions, expectedAttachType, name, true);
    }
  }

  private static int loadProgram(byte[] instructions, int expectedAttachType, String name, boolean withLog) {
    Memory code = new Memory(instructions.length);
    code.write(0, instructions, 0, instructions.length);
    byte[] licenseBytes = "GPL\0".getBytes(StandardCharsets.US_ASCII);
    Memory license = new Memory(licenseBytes.length);
    license.write(0, licenseBytes, 0, licenseBytes.length);
    Memory log = new Memory(VERIFIER_LOG_BYTES);
    log.clear();
    Memory attr = attr();
    attr.setInt(0, PROG_TYPE_SK_REUSEPORT);
    attr.setInt(4, instructions.length / Assembler.SLOT_BYTES);
    attr.setPointer(8, code);
    attr.setPointer(16, license);
    if (withLog) {
      attr.setInt(24, LOG_LEVEL_ERRORS);
      attr.setInt(28, VERIFIER_LOG_BYTES);
      attr.setPointer(32, log);
    }
    putName(attr, 48, name);
    attr.setInt(68, expectedAttachType);
    try {
      return (int) call(PROG_LOAD, attr, "BPF_PROG_LOAD " + name);
    } catch (BpfException e) {
      String verifier = log.getString(0, StandardCharsets.US_ASCII.name()).trim();
      throw verifier.isEmpty() ? e : new BpfException(e.getMessage() + "; verifier log: "
          + verifier.replace('\n', ' '), e.errno());
    }
  }

  /** {@code setsockopt(SO_ATTACH_REUSEPORT_EBPF)}: the program becomes the selector of the socket's group. */
  static void attachToGroup(int socketFd, int programFd) {
    Memory value = new Memory(4);
    value.setInt(0, programFd);
    try {
      libc().setsockopt(socketFd, SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, value, 4);
    } catch (LastErrorException e) {
      throw new BpfException("setsockopt(SO_ATTACH_REUSEPORT_EBPF) on fd " + socketFd + ": "
          + describe(e.getErrorCode()), e.getErrorCode());
    }
  }

  static void close(int fd) {
    try {
      libc().close(fd);
    } catch (LastErrorException e) {
      // a descriptor we own: EBADF would be our bug, nothing to recover
    }
  }

  private static long call(int cmd, Memory attr, String what) {
    if (SYS_BPF == 0) {
      throw new BpfException("bpf(" + what + "): no syscall number known for architecture "
          + System.getProperty("os.arch"), 0);
    }
    try {
      return libc().syscall(SYS_BPF, cmd, attr, ATTR_BYTES);
    } catch (LastErrorException e) {
      throw new BpfException("bpf(" + what + "): " + describe(e.getErrorCode()), e.getErrorCode());
    } catch (UnsatisfiedLinkError e) {
      throw new BpfException("bpf(" + what + "): libc not reachable through JNA: " + e.getMessage(), 0);
    }
  }

  private static Memory attr() {
    Memory attr = new Memory(ATTR_BYTES);
    attr.clear();
    return attr;
  }

  private static void putName(Memory attr, int offset, String name) {
    // BPF_OBJ_NAME_LEN is 16 with the terminating NUL; the kernel accepts [A-Za-z0-9_.]
    byte[] bytes = name.getBytes(StandardCharsets.US_ASCII);
    attr.write(offset, bytes, 0, Math.min(bytes.length, 15));
  }

  static String describe(int errno) {
    switch (errno) {
      case 1:
        return "EPERM (Operation not permitted)";
      case 13:
        return "EACCES (Permission denied: the verifier rejected the program)";
      case 2:
        return "ENOENT (No such entry)";
      case 16:
        return "EBUSY (the socket is in another process's selector map)";
      case 22:
        return "EINVAL (Invalid argument)";
      case 38:
        return "ENOSYS (bpf(2) not available)";
      default:
        return "errno " + errno;
    }
  }
}
