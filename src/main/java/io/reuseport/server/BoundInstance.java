package io.reuseport.server;

/**
 * A started server instance: its id, the event loop it runs on, the port it bound.
 */
public record BoundInstance(int id, String eventLoop, int port) {
}
