package io.reuseport.admin;

/**
 * Where the admin server listens and what it watches.
 *
 * @param statsTimeoutMs how long {@code /stats} waits for the collector
 */
public record AdminSettings(String host, int port, int instances, long statsTimeoutMs) {
}
