package io.reuseport.admin;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * {@code GET /}: the live dashboard, one self-contained HTML page from the jar's resources.
 */
final class Dashboard {

  private static final String RESOURCE = "/dashboard/index.html";
  private final Buffer page;

  Dashboard() {
    try (InputStream in = Dashboard.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("dashboard resource " + RESOURCE + " missing from the jar");
      }
      page = Buffer.buffer(in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  void serve(HttpServerRequest req) {
    req.response().putHeader("Content-Type", "text/html; charset=utf-8").putHeader("Cache-Control", "no-store")
        .end(page);
  }
}
