package io.reuseport.service;

import io.vertx.core.buffer.Buffer;

/**
 * Reads and drops everything, answers nothing, keeps the connection open until the peer closes it.
 */
public final class DiscardService implements Service {

  @Override
  public TcpHandler onConnect(TcpSession session) {
    return new TcpHandler() {
      @Override
      public void onData(Buffer data) {
      }
    };
  }

  @Override
  public void onDatagram(Buffer payload, DatagramReply sender) {
  }

  public static final class Provider implements ServiceProvider {
    @Override
    public String name() {
      return "discard";
    }

    @Override
    public Service create(ServiceContext context) {
      return new DiscardService();
    }
  }
}
