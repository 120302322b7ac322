package io.reuseport.admin;

/**
 * Where the admin server listens and what it watches.
 *
 * @param statsTimeoutMs how long {@code /stats} waits for the collector
 * @param maxConnections open admin connections at most; further ones are closed at once and counted
 */
public record AdminSettings(String host, int port, int instances, long statsTimeoutMs, int maxConnections) {
}
