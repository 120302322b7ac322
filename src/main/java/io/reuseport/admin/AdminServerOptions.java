package io.reuseport.admin;

/**
 * The admin server's options: where it listens and what it watches.
 *
 * @param statsTimeoutMs how long {@code /stats} waits for the collector
 * @param reusePort bind with {@code SO_REUSEPORT}, so that a process taking this one over can bind the same port
 * @param maxConnections open admin connections at most; further ones are closed at once and counted
 */
public record AdminServerOptions(String host, int port, int instances, long statsTimeoutMs, boolean reusePort,
                                 int maxConnections) {
}
