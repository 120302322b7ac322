package io.reuseport.testsupport;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * A blocking HTTP client for the admin server on loopback.
 */
public final class Admin {

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private Admin() {
  }

  public static HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
    return send(port, path, "GET");
  }

  public static HttpResponse<String> send(int port, String path, String method)
      throws IOException, InterruptedException {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10))
        .method(method, HttpRequest.BodyPublishers.noBody())
        .build();
    return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
  }

  /** {@code GET /stats?fresh=true}: everything counted before the call. */
  public static JsonObject freshStats(int port) throws IOException, InterruptedException {
    HttpResponse<String> response = get(port, "/stats?fresh=true");
    if (response.statusCode() != 200) {
      throw new IOException("/stats answered " + response.statusCode() + ": " + response.body());
    }
    return new JsonObject(response.body());
  }
}
