package io.reuseport.config;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads the JSON configuration file. Only a regular file of sane size is read at all: a FIFO would block start-up
 * forever and {@code /dev/zero} would fill the heap.
 */
final class ConfigFile {

  /** No configuration is anywhere near this large; anything larger is the wrong file. */
  static final long MAX_BYTES = 1 << 20;

  private ConfigFile() {
  }

  /**
   * @param path the file
   * @param optional whether a missing file means "no file" (the default path) rather than an error
   */
  static JsonObject read(Path path, boolean optional) {
    if (!Files.exists(path)) {
      if (optional) {
        return new JsonObject();
      }
      throw new ConfigException("conf", "file " + path + " does not exist");
    }
    if (!Files.isRegularFile(path)) {
      throw new ConfigException("conf", path + " is not a regular file (" + kind(path)
          + "); give a JSON file of at most 1 MiB");
    }
    String text;
    try {
      long size = Files.size(path);
      if (size > MAX_BYTES) {
        throw new ConfigException("conf", path + " is " + size + " bytes; a configuration file is at most 1 MiB");
      }
      text = Files.readString(path, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new ConfigException("conf", "file " + path + " does not exist");
    } catch (IOException e) {
      throw new ConfigException("conf", "cannot read " + path + ": " + e.getMessage());
    }
    Object value;
    try {
      value = Json.decodeValue(text);
    } catch (DecodeException e) {
      String reason = e.getMessage() == null ? "" : e.getMessage().lines().findFirst().orElse("");
      throw new ConfigException("conf", path + " is not a JSON object: " + reason);
    }
    if (!(value instanceof JsonObject)) {
      throw new ConfigException("conf", path + " is " + describe(value)
          + ", not a JSON object; write the settings as {\"port\": 9000, ...}");
    }
    return (JsonObject) value;
  }

  private static String kind(Path path) {
    if (Files.isDirectory(path)) {
      return "a directory";
    }
    return "a FIFO, socket or device";
  }

  private static String describe(Object value) {
    if (value instanceof JsonArray) {
      return "a JSON array";
    }
    if (value == null) {
      return "empty or null";
    }
    return "a JSON " + (value instanceof String ? "string" : value instanceof Number ? "number" : "value");
  }
}
