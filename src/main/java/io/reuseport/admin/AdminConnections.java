package io.reuseport.admin;

import io.micrometer.core.instrument.FunctionCounter;
import io.reuseport.metrics.ServerMeters;
import io.vertx.core.http.HttpConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Caps the admin server's open connections, so that admin clients (scrapers, dashboards, a flood of keep-alive
 * connections) cannot take the file descriptors the service needs. A connection over the cap is closed at once and
 * counted; the first of each run of rejections is logged. Runs on the admin server's event loop only.
 */
final class AdminConnections {

  private static final Logger LOG = LoggerFactory.getLogger(AdminConnections.class);

  private final int max;
  private int open;
  private volatile long rejected;
  private boolean rejecting;

  AdminConnections(int max, ServerMeters meters) {
    this.max = max;
    meters.counter(FunctionCounter.builder("reuseport.admin.connections.rejected", this, c -> c.rejected)
        .description("admin HTTP connections closed at once because maxAdminConnections were open"));
  }

  void opened(HttpConnection connection) {
    if (open >= max) {
      rejected++;
      if (!rejecting) {
        rejecting = true;
        LOG.warn("admin server: {} connections open (maxAdminConnections), closing new ones until one closes",
            open);
      }
      connection.close();
      return;
    }
    open++;
    connection.closeHandler(v -> {
      open--;
      rejecting = false;
    });
  }

  long rejected() {
    return rejected;
  }
}
