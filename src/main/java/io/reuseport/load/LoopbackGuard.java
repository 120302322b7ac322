package io.reuseport.load;

import io.netty.util.NetUtil;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * Keeps load on this machine: a target must be a loopback literal (127.0.0.0/8, ::1) or {@code localhost}, unless
 * the user says {@code --allow-remote}. Names other than localhost are refused without being resolved, so a refused
 * target costs no packet at all, not even a DNS query.
 */
final class LoopbackGuard {

  private LoopbackGuard() {
  }

  /**
   * @return the target to use: {@code localhost} becomes 127.0.0.1 (the server binds IPv4 by default)
   * @throws IllegalArgumentException when the target is not loopback and {@code allowRemote} is false
   */
  static Target check(Target target, boolean allowRemote) {
    String host = target.host();
    if ("localhost".equals(host.toLowerCase(Locale.ROOT))) {
      return new Target("127.0.0.1", target.port());
    }
    if (allowRemote || isLoopbackLiteral(host)) {
      return target;
    }
    throw new IllegalArgumentException("refusing target " + target + ": not a loopback address (127.0.0.0/8, ::1,"
        + " localhost); load only machines you run, and say so with --allow-remote");
  }

  static boolean isLoopbackLiteral(String host) {
    byte[] bytes = NetUtil.createByteArrayFromIpAddressString(host);
    if (bytes == null) {
      return false;
    }
    try {
      return InetAddress.getByAddress(bytes).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
