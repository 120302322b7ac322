package io.reuseport.service;

import io.vertx.core.buffer.Buffer;

/**
 * Answers the {@code sockperf} latency and throughput tool as its own {@code sockperf server} does, over TCP and
 * UDP: {@code ping-pong} (every message asks for a reply), {@code under-load} (some messages do) and
 * {@code throughput} (none do).
 *
 * <p>The protocol (sockperf's {@code src/message.h}): every message starts with a 14-byte header in network byte
 * order, an 8-byte sequence number, 2 bytes of flags ({@code 1} = from a client, {@code 2} = a reply is requested,
 * {@code 4} = warm-up) and the 4-byte length of the whole message, header included; the payload follows. A message
 * from a client that asks for a reply and is not a warm-up message is sent back whole with the client flag cleared
 * (sockperf's client discards any reply still carrying it, which is why a plain echo looks dead to it); every other
 * message is read and dropped. Over TCP the messages are a stream, split and joined anywhere; over UDP each datagram
 * holds whole messages.
 *
 * <p>Errors: a length below the header's 14 bytes or above {@value #MAX_MESSAGE_BYTES} closes that TCP connection; a
 * datagram with a malformed message is dropped (and counted as a UDP error).
 */
public final class SockperfService implements Service {

  static final int HEADER_BYTES = 14;
  static final int FLAGS_OFFSET = 8;
  static final int LENGTH_OFFSET = 10;
  static final int FROM_CLIENT = 1;
  static final int REPLY_REQUESTED = 2;
  static final int WARMUP = 4;
  /** Longest message accepted over TCP (sockperf's own server takes 65,507 bytes unless told otherwise). */
  static final int MAX_MESSAGE_BYTES = 1 << 20;

  @Override
  public TcpHandler onConnect(TcpSession session) {
    return new Stream(session);
  }

  @Override
  public void onDatagram(Buffer payload, DatagramReply sender) {
    int end = payload.length();
    if (end >= HEADER_BYTES && messageLength(payload, 0, end) == end) {
      // the usual case, one message per datagram: answered in place, without a copy
      if (turnIntoReply(payload, 0)) {
        sender.send(payload);
      }
      return;
    }
    int at = 0;
    while (at < end) {
      int length = messageLength(payload, at, end - at);
      if (turnIntoReply(payload, at)) {
        sender.send(payload.getBuffer(at, at + length));
      }
      at += length;
    }
  }

  /**
   * The length of the message at {@code at}, checked against what is there.
   *
   * @throws IllegalArgumentException when the header is cut off or the length is impossible
   */
  private static int messageLength(Buffer data, int at, int available) {
    if (available < HEADER_BYTES) {
      throw new IllegalArgumentException("sockperf: " + available + " bytes left, less than a message header");
    }
    long length = data.getUnsignedInt(at + LENGTH_OFFSET);
    if (length < HEADER_BYTES || length > Math.min(available, MAX_MESSAGE_BYTES)) {
      throw new IllegalArgumentException("sockperf: message length " + length + " with " + available
          + " bytes at hand");
    }
    return (int) length;
  }

  /** True when the message at {@code at} wants a reply; its client flag is then cleared in place. */
  private static boolean turnIntoReply(Buffer data, int at) {
    int flags = data.getUnsignedShort(at + FLAGS_OFFSET);
    boolean wanted = (flags & (FROM_CLIENT | REPLY_REQUESTED | WARMUP)) == (FROM_CLIENT | REPLY_REQUESTED);
    if (wanted) {
      data.setUnsignedShort(at + FLAGS_OFFSET, flags & ~FROM_CLIENT);
    }
    return wanted;
  }

  /** One TCP connection: messages split anywhere by the stream; an incomplete one is kept until the rest comes. */
  private static final class Stream implements TcpHandler {

    private final TcpSession session;
    /** The start of a message whose rest has not arrived yet (a copy), or null. */
    private Buffer partial;

    Stream(TcpSession session) {
      this.session = session;
    }

    @Override
    public void onData(Buffer data) {
      Buffer in = partial == null ? data : partial.appendBuffer(data);
      int end = in.length();
      int at = 0;
      // [0, answered) holds only messages that want a reply, answered in place; once a message that wants none
      // breaks that run, the replies are copied out instead
      int answered = 0;
      Buffer replies = null;
      while (end - at >= HEADER_BYTES) {
        long length = in.getUnsignedInt(at + LENGTH_OFFSET);
        if (length < HEADER_BYTES || length > MAX_MESSAGE_BYTES) {
          throw new IllegalArgumentException("sockperf: message length " + length + ", allowed "
              + HEADER_BYTES + ".." + MAX_MESSAGE_BYTES);
        }
        if (end - at < length) {
          break;
        }
        boolean reply = turnIntoReply(in, at);
        if (replies == null && reply) {
          answered = at + (int) length;
        } else {
          if (replies == null) {
            replies = Buffer.buffer().appendBuffer(in, 0, answered);
          }
          if (reply) {
            replies.appendBuffer(in, at, (int) length);
          }
        }
        at += (int) length;
      }
      partial = at == end ? null : in.getBuffer(at, end);
      if (replies != null) {
        if (replies.length() > 0) {
          session.write(replies);
        }
      } else if (answered > 0) {
        // whole ping-pong messages and nothing else: the read buffer goes back as it is
        session.write(answered == end && in == data ? data : in.getBuffer(0, answered));
      }
    }
  }

  public static final class Provider implements ServiceProvider {
    @Override
    public String name() {
      return "sockperf";
    }

    @Override
    public Service create(ServiceContext context) {
      return new SockperfService();
    }
  }
}
