package io.reuseport.server;

import io.reuseport.config.ServerConfig;
import io.vertx.core.json.JsonObject;

/**
 * What one server instance is told at deployment: its id and the server's configuration (with the actual port).
 */
record InstanceSettings(int id, ServerConfig config) {

  static final String ID_KEY = "instanceId";
  static final String CONFIG_KEY = "server";

  JsonObject toJson() {
    return new JsonObject().put(ID_KEY, id).put(CONFIG_KEY, config.toJson());
  }

  static InstanceSettings fromJson(JsonObject json) {
    return new InstanceSettings(json.getInteger(ID_KEY),
        io.reuseport.config.ConfigLoader.fromJson(json.getJsonObject(CONFIG_KEY)));
  }
}
