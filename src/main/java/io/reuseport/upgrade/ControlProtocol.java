package io.reuseport.upgrade;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The takeover conversation on the control socket, in text lines except for the descriptors themselves:
 *
 * <pre>
 *   old -> new   TAKEOVER 1 port=9000 tcp=2 udp=2     what it will pass
 *   new -> old   SEND                                  sent once the new side reads descriptors, not bytes
 *   old -> new   2 TCP listener fds, then 2 UDP fds    SCM_RIGHTS, one per message
 *   new -> old   DRAIN                                 once the new process is ready
 *   old          takes its sockets off its loops and closes its descriptors (the new process holds the sockets),
 *                stops its admin listener, unlinks the control socket, closes the connection, drains, exits 0
 * </pre>
 *
 * The old side talks to one peer at a time (another one gets {@code BUSY} and is closed), with a deadline per step
 * ({@link ControlServer}); anything out of order (a bare {@code DRAIN}, a second {@code SEND}, a line over
 * {@value #MAX_LINE} bytes, anything else) ends that exchange, logged once. A new side that disconnects before
 * {@code DRAIN}, or misbehaves, leaves the old process serving as before, ready for another takeover.
 */
final class ControlProtocol {

  static final String SEND = "SEND";
  static final String DRAIN = "DRAIN";
  static final String BUSY = "BUSY";
  private static final Pattern HELLO = Pattern.compile("TAKEOVER 1 port=(\\d+) tcp=(\\d+) udp=(\\d+)");
  static final int MAX_LINE = 256;
  private static final int SHOWN = 40;

  /** What the old process offers. */
  record Hello(int port, int tcp, int udp) {
    String line() {
      return "TAKEOVER 1 port=" + port + " tcp=" + tcp + " udp=" + udp;
    }

    static Hello parse(String line) {
      Matcher m = HELLO.matcher(line);
      if (!m.matches()) {
        throw new IllegalStateException("not a reuseport-server control socket (it said '" + line + "')");
      }
      return new Hello(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)));
    }
  }

  private ControlProtocol() {
  }

  /** A received line as it may be logged: printable, and short. */
  static String shown(String line) {
    String printable = line.replaceAll("[^\\x20-\\x7e]", "?");
    return printable.length() <= SHOWN ? printable : printable.substring(0, SHOWN) + "...";
  }

  static ByteBuf line(String text) {
    return Unpooled.copiedBuffer(text + "\n", StandardCharsets.US_ASCII);
  }

  /** Splits received bytes into lines; a line longer than {@value #MAX_LINE} bytes is a protocol error. */
  static final class Lines {
    private final StringBuilder pending = new StringBuilder();

    void feed(ByteBuf buf, Consumer<String> onLine) {
      while (buf.isReadable()) {
        char c = (char) buf.readByte();
        if (c == '\n') {
          String line = pending.toString().trim();
          pending.setLength(0);
          onLine.accept(line);
        } else if (pending.length() >= MAX_LINE) {
          throw new IllegalStateException("control line longer than " + MAX_LINE + " bytes");
        } else {
          pending.append(c);
        }
      }
    }
  }
}
