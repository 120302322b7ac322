package io.reuseport.stats;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The last five minutes of Jain's index, one point per stats interval, kept in the server so that a dashboard
 * opened (or reopened) now shows them at once. Touched on the collector's loop only.
 */
final class FairnessHistory {

  static final long SPAN_MS = 5 * 60 * 1000;
  private final Deque<JsonObject> points = new ArrayDeque<>();

  void add(long now, Fairness tcpInterval, Fairness tcpStart, Fairness udpInterval, Fairness udpStart) {
    points.addLast(new JsonObject()
        .put("t", now)
        .put("tcpAccepted", point(tcpInterval, tcpStart))
        .put("udpDatagramsIn", point(udpInterval, udpStart)));
    while (!points.isEmpty() && points.peekFirst().getLong("t") < now - SPAN_MS) {
      points.removeFirst();
    }
  }

  /** Oldest first: {@code [{t, tcpAccepted: {interval, start}, udpDatagramsIn: {interval, start}}, ...]}. */
  JsonArray toJson() {
    JsonArray array = new JsonArray();
    points.forEach(array::add);
    return array;
  }

  private static JsonObject point(Fairness interval, Fairness start) {
    return new JsonObject().put("interval", jain(interval)).put("start", jain(start));
  }

  private static Double jain(Fairness f) {
    return Double.isNaN(f.jain()) ? null : f.jain();
  }
}
