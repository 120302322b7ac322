package io.reuseport.service;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;

/**
 * What a server instance does with the bytes it receives. The instance owns the sockets, the counters and
 * backpressure; a service owns the bytes.
 *
 * <p>One {@code Service} object is created per server instance and is only ever called on that instance's event
 * loop, so it needs no locking. Buffers handed to a service are only valid during the call: to keep one, copy its
 * bytes ({@code Buffer.buffer(data.getBytes())}); not {@link Buffer#copy()}, which copies into a pooled direct
 * buffer that nothing releases. A buffer may be written back as it is (echo) without a copy.
 *
 * <p>A connection whose peer has closed its side is closed once the queued bytes are written, unless the handler
 * overrides {@link TcpHandler#onEnd}: so {@code session -> data -> session.write(data)} is a complete echo service.
 *
 * <p>Error policy: an exception thrown from {@link TcpHandler#onData} closes that connection only; an exception
 * thrown from {@link #onDatagram} drops that datagram only, the UDP socket keeps serving.
 */
public interface Service {

  /**
   * Completes when the service can take traffic; the instance binds its sockets only then (and readiness stays 503
   * until every instance is bound). For services that load something first; the default is ready at once.
   */
  default Future<?> ready() {
    return Future.succeededFuture();
  }

  /**
   * A TCP connection was accepted.
   *
   * @return the handler for that connection's bytes
   */
  TcpHandler onConnect(TcpSession session);

  /**
   * A datagram arrived.
   *
   * @param payload the datagram's bytes
   * @param sender replies to the datagram's sender
   */
  void onDatagram(Buffer payload, DatagramReply sender) throws Exception;

  /** The bytes of one TCP connection. */
  interface TcpHandler {

    /** Bytes arrived, in order. */
    void onData(Buffer data) throws Exception;

    /**
     * The peer closed its sending side (or the whole connection): nothing more will arrive. The default closes the
     * connection once the bytes queued so far are written, so a service that never thinks about the peer's end
     * leaks no connection. Override it to keep writing after the peer's half-close, and call
     * {@link TcpSession#close()} when done: until then the connection stays open (and a drain waits for it).
     *
     * @param session the connection, as {@link Service#onConnect} got it
     */
    default void onEnd(TcpSession session) {
      session.close();
    }
  }

  /** The connection a {@link TcpHandler} works on. */
  interface TcpSession {

    /** Queues bytes for the peer; the server stops reading while the queue is full. */
    void write(Buffer data);

    /** Closes the connection once queued bytes are written. */
    void close();

    /** The server instance serving this connection, 0..instances-1. */
    int instanceId();
  }

  /** The sender of a datagram. */
  interface DatagramReply {

    /** Sends a datagram back to the sender; dropped (and counted) when the socket's send queue is full. */
    void send(Buffer payload);
  }
}
