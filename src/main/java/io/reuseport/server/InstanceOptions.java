package io.reuseport.server;

import io.reuseport.config.ServerConfig;

/**
 * What one server instance is given at deployment, through its constructor: its id and the server's configuration
 * (with the actual port), as typed values.
 */
record InstanceOptions(int id, ServerConfig config) {
}
