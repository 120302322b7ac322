package io.reuseport.stats;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * The one place that sums, compares and exposes the instances' counters. Keeps the latest snapshot of each
 * instance (published every interval, or asked for on demand), the rates and the fairness over the last interval,
 * marks instances whose snapshots stop coming as stale, and reads the kernel's view of the port's group.
 */
public final class StatsCollector extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(StatsCollector.class);
  /** An instance is stale when its last snapshot is older than this many intervals. */
  static final double STALE_INTERVALS = 1.5;
  /** How long a fresh request waits for each instance; the admin server waits longer than this for the report. */
  public static final long FRESH_TIMEOUT_MS = 3_000;
  /**
   * How often the tick re-reads the port's group: /proc/net/tcp lists every connection of the host, so reading it
   * each second costs a busy server real CPU. A fresh query always re-reads it.
   */
  static final long GROUP_PERIOD_MS = 5_000;

  private final StatsCollectorOptions settings;
  /** The steering view ({@code io.reuseport.steer.Steering#toJson}), or null parts when nothing steers. */
  private final Supplier<JsonObject> steering;
  private final AtomicReferenceArray<InstanceSnapshot> latest;
  private final long[] receivedAt;
  private final InstanceSnapshot[] atLastTick;
  private final Rates[] rates;
  private final List<Integer> stale = new ArrayList<>();
  /** The stale instances as of the last tick, for meters read from other threads. */
  private volatile List<Integer> staleView = List.of();
  private final FairnessHistory history = new FairnessHistory();
  private volatile Fairness tcpInterval = Fairness.of(new long[0]);
  private volatile Fairness udpInterval = Fairness.of(new long[0]);
  private volatile Fairness httpInterval = Fairness.of(new long[0]);
  private volatile PortGroup group = PortGroup.unknown();
  /** Connections other processes had accepted on the port at the last read; null while no foreign TCP member. */
  private Set<Long> foreignConnectionsBefore;
  /** Whether another process's selector replaced ours: other processes' sockets accepted new connections. */
  private volatile boolean selectorReplaced;
  private final UnevenSpread tcpSpread;
  private final UnevenSpread udpSpread;
  private final UnevenSpread httpSpread;
  /** Each instance's datagrams of pinned UDP flows (from the steering view) at the last tick. */
  private long[] pinnedAtLastTick;
  private long lastTick;
  private long lastGroupRead;
  private volatile String eventLoop = "";
  private long startedAt;

  public StatsCollector(StatsCollectorOptions settings) {
    this(settings, () -> null);
  }

  /**
   * @param steering the steering view for the report: its {@code instances[i]} also goes into each instance's
   *     entry; read from the collector's loop, so it must be safe from any thread
   */
  public StatsCollector(StatsCollectorOptions settings, Supplier<JsonObject> steering) {
    this.settings = settings;
    this.steering = steering;
    int n = settings.instances();
    latest = new AtomicReferenceArray<>(n);
    receivedAt = new long[n];
    atLastTick = new InstanceSnapshot[n];
    rates = new Rates[n];
    tcpSpread = new UnevenSpread(settings.fairnessWarnBelow(), settings.fairnessMinSample());
    udpSpread = new UnevenSpread(settings.fairnessWarnBelow(), settings.fairnessMinSample());
    httpSpread = new UnevenSpread(settings.fairnessWarnBelow(), settings.fairnessMinSample());
    pinnedAtLastTick = new long[n];
  }

  @Override
  public Future<?> start() {
    startedAt = System.currentTimeMillis();
    eventLoop = Thread.currentThread().getName();
    lastTick = startedAt;
    vertx.setPeriodic(settings.intervalMs(), id -> tick());
    return Future.join(
        vertx.eventBus().<InstanceSnapshot>localConsumer(StatsAddresses.SNAPSHOTS, msg -> accept(msg.body()))
            .completion(),
        vertx.eventBus().<JsonObject>localConsumer(StatsAddresses.QUERY, this::query).completion());
  }

  /** The thread this collector runs on. */
  public String eventLoop() {
    return eventLoop;
  }

  /** The latest snapshot of instance {@code id}, or null before its first; safe from any thread. */
  public InstanceSnapshot latest(int id) {
    return latest.get(id);
  }

  /** Fairness of accepted connections since start; safe from any thread. */
  public Fairness tcpSinceStart() {
    return Fairness.of(column(s -> s.tcp().accepted()));
  }

  /** Fairness of received datagrams since start; safe from any thread. */
  public Fairness udpSinceStart() {
    return Fairness.of(column(s -> s.udp().datagramsIn()));
  }

  private long[] column(ToLongFunction<InstanceSnapshot> counter) {
    long[] values = new long[settings.instances()];
    for (int i = 0; i < values.length; i++) {
      InstanceSnapshot s = latest.get(i);
      values[i] = s == null ? 0 : counter.applyAsLong(s);
    }
    return values;
  }

  public Fairness tcpInterval() {
    return tcpInterval;
  }

  public Fairness udpInterval() {
    return udpInterval;
  }

  public PortGroup group() {
    return group;
  }

  /** Whether instance {@code id} was stale at the last tick; safe from any thread. */
  public boolean isStale(int id) {
    return staleView.contains(id);
  }

  /** Datagrams the kernel dropped on instance {@code id}'s UDP socket (receive buffer full); safe from any thread. */
  public long udpDrops(int id) {
    InstanceSnapshot snapshot = latest.get(id);
    return snapshot == null ? 0 : group.udpDropsByFd().getOrDefault(snapshot.udpFd(), 0L);
  }

  private void accept(InstanceSnapshot snapshot) {
    int id = snapshot.id();
    if (id >= 0 && id < settings.instances()) {
      latest.set(id, snapshot);
      receivedAt[id] = System.currentTimeMillis();
    }
  }

  private void query(Message<JsonObject> msg) {
    boolean fresh = msg.body() != null && msg.body().getBoolean("fresh", false);
    boolean withHistory = msg.body() != null && msg.body().getBoolean("history", false);
    Future<?> ready = fresh ? refreshAll().transform(v -> readGroup()) : Future.succeededFuture();
    ready.onComplete(v -> {
      JsonObject report = report();
      if (withHistory) {
        report.put("history", history.toJson()).put("generatedAt", System.currentTimeMillis());
      }
      msg.reply(report);
    });
  }

  /** Asks every instance for its counters now; an instance that does not answer in time keeps its last snapshot. */
  private Future<?> refreshAll() {
    List<Future<?>> asked = new ArrayList<>();
    // generous: a loop busy with load answers late, and a stale answer would make "fresh" a lie
    DeliveryOptions timeout = new DeliveryOptions().setSendTimeout(FRESH_TIMEOUT_MS);
    for (int id = 0; id < settings.instances(); id++) {
      asked.add(vertx.eventBus().<InstanceSnapshot>request(StatsAddresses.instance(id), null, timeout)
          .onSuccess(reply -> accept(reply.body())));
    }
    return Future.join(asked);
  }

  private JsonObject report() {
    long now = System.currentTimeMillis();
    int n = settings.instances();
    InstanceSnapshot[] snapshots = new InstanceSnapshot[n];
    long[] ages = new long[n];
    for (int i = 0; i < n; i++) {
      snapshots[i] = latest.get(i);
      ages[i] = now - receivedAt[i];
    }
    return withSteering(StatsReport.build(settings, snapshots, ages, rates, group, tcpInterval, udpInterval,
        httpInterval, staleNow(now), now - startedAt));
  }

  /**
   * Whether another process attached a selector of its own to the port's group, replacing ours (a reuseport-server
   * with steering started on the same port does, as in a plain upgrade); safe from any thread.
   */
  public boolean selectorReplaced() {
    return selectorReplaced;
  }

  /** Whether our selector steers the group: attached, not handed over, not replaced by another process's. */
  private boolean locksGroup() {
    JsonObject view = steering.get();
    return view != null && view.getBoolean("locksGroup", false) && !selectorReplaced;
  }

  /** Whether this process handed its sockets over: the group's members are the successor's now, not foreign. */
  private boolean handedOver() {
    JsonObject view = steering.get();
    return view != null && view.getBoolean("handedOver", false);
  }

  private JsonObject withSteering(JsonObject report) {
    JsonObject view = steering.get();
    if (view == null) {
      return report;
    }
    if (selectorReplaced) {
      view.put("locksGroup", false).put("replaced", "another process attached a selector of its own to the group");
    }
    report.put("steering", view);
    JsonObject members = report.getJsonObject("group");
    if (members != null) {
      boolean locked = view.getBoolean("locksGroup", false);
      int tcp = members.getInteger("foreignTcp", 0);
      int udp = members.getInteger("foreignUdp", 0);
      members.put("foreignLockedOut", locked && tcp + udp > 0)
          .put("lockedOutTcp", locked ? tcp : 0)
          .put("lockedOutUdp", locked ? udp : 0);
    }
    JsonArray perInstance = view.getJsonArray("instances");
    JsonArray instances = report.getJsonArray("instances");
    for (int i = 0; i < instances.size() && i < perInstance.size(); i++) {
      instances.getJsonObject(i).put("steering", perInstance.getJsonObject(i));
    }
    return report;
  }

  private List<Integer> staleNow(long now) {
    List<Integer> ids = new ArrayList<>();
    for (int i = 0; i < settings.instances(); i++) {
      if (latest.get(i) != null && latest.get(i).draining()) {
        // a draining instance stops reporting when its drain ends: that is not a stall
        continue;
      }
      long since = latest.get(i) == null ? startedAt : receivedAt[i];
      if (now - since > STALE_INTERVALS * settings.intervalMs()) {
        ids.add(i);
      }
    }
    return ids;
  }

  private void tick() {
    long now = System.currentTimeMillis();
    double seconds = Math.max(1, now - lastTick) / 1000.0;
    lastTick = now;
    int n = settings.instances();
    long[] accepted = new long[n];
    long[] datagrams = new long[n];
    long[] requests = new long[n];
    for (int i = 0; i < n; i++) {
      InstanceSnapshot current = latest.get(i);
      if (current == null) {
        continue;
      }
      InstanceSnapshot before = atLastTick[i] == null ? InstanceSnapshot.empty(i) : atLastTick[i];
      accepted[i] = current.tcp().accepted() - before.tcp().accepted();
      datagrams[i] = current.udp().datagramsIn() - before.udp().datagramsIn();
      requests[i] = current.http().requests() - before.http().requests();
      rates[i] = Rates.between(before, current, seconds);
      atLastTick[i] = current;
    }
    tcpInterval = Fairness.of(accepted);
    udpInterval = Fairness.of(datagrams);
    httpInterval = Fairness.of(requests);
    history.add(now, tcpInterval, tcpSinceStart(), udpInterval, udpSinceStart());
    judge(now, "TCP connections", tcpInterval, tcpSpread, "");
    judge(now, "UDP datagrams", udpInterval, udpSpread, pinnedFlows(udpInterval));
    judge(now, "HTTP requests", httpInterval, httpSpread, "");
    logStaleChanges(staleNow(now));
    LOG.debug("interval: {} connections (jain {}), {} datagrams (jain {}), stale {}", tcpInterval.sample(),
        tcpInterval.jain(), udpInterval.sample(), udpInterval.jain(), stale);
    if (now - lastGroupRead >= Math.max(settings.intervalMs(), GROUP_PERIOD_MS)) {
      readGroup();
    }
    vertx.eventBus().publish(StatsAddresses.REPORTS, report());
  }

  /** Logs the start of an episode of uneven spread and its end, once each (see {@link UnevenSpread}). */
  private void judge(long now, String what, Fairness f, UnevenSpread spread, String why) {
    switch (spread.next(now, f)) {
      case BEGAN -> LOG.warn("{} spread unevenly over the last interval: Jain's index {} < {} over {} (idle instances"
          + " {}){}; said once until the spread is even again", what, String.format("%.3f", f.jain()),
          settings.fairnessWarnBelow(), f.sample(), f.idle(), why);
      case ENDED -> LOG.info("{} spread evenly again: Jain's index {} >= {} after {} s uneven (lowest {})", what,
          String.format("%.3f", f.jain()), settings.fairnessWarnBelow(), (now - spread.beganAtMs()) / 1000,
          String.format("%.3f", spread.lowest()));
      default -> {
      }
    }
  }

  /**
   * Over the last interval, the datagrams of live UDP flows that the selector kept on an instance although the table
   * sends their bucket elsewhere (moved during a stall; stateful UDP does not move back while live), as a clause for
   * the uneven-spread warning; "" when there were none or nothing steers.
   */
  private String pinnedFlows(Fairness udp) {
    JsonObject view = steering.get();
    JsonArray instances = view == null ? null : view.getJsonArray("instances");
    int n = settings.instances();
    long[] now = new long[n];
    long total = 0;
    List<String> where = new ArrayList<>();
    for (int i = 0; i < n && instances != null && i < instances.size(); i++) {
      Long pinned = instances.getJsonObject(i).getLong("pinnedDatagrams");
      now[i] = pinned == null ? 0 : pinned;
      long delta = Math.max(0, now[i] - pinnedAtLastTick[i]);
      if (delta > 0) {
        where.add("instance " + i + ": " + delta);
        total += delta;
      }
    }
    pinnedAtLastTick = now;
    if (total == 0) {
      return "";
    }
    return String.format("; %d of the %d datagrams (%.0f %%) came from live flows pinned away from the instance the"
        + " table gives their bucket (%s): moved during a stall, they stay while they send and come home after"
        + " udpFlowIdleSeconds without a datagram", total, udp.sample(), 100.0 * total / Math.max(1, udp.sample()),
        String.join(", ", where));
  }

  private void logStaleChanges(List<Integer> now) {
    for (Integer id : now) {
      if (!stale.contains(id)) {
        LOG.warn("instance {} is stale: no snapshot for over {} ms (its event loop may be blocked)", id,
            (long) (STALE_INTERVALS * settings.intervalMs()));
      }
    }
    for (Integer id : stale) {
      if (!now.contains(id)) {
        LOG.info("instance {} reports again", id);
      }
    }
    stale.clear();
    stale.addAll(now);
    staleView = List.copyOf(now);
  }

  private Future<PortGroup> readGroup() {
    lastGroupRead = System.currentTimeMillis();
    List<Integer> fds = new ArrayList<>();
    for (int i = 0; i < settings.instances(); i++) {
      InstanceSnapshot s = latest.get(i);
      if (s != null && s.udpFd() >= 0) {
        fds.add(s.udpFd());
      }
    }
    return vertx.executeBlocking(() -> PortGroup.read(settings.port(), fds), false).onFailure(err -> {
      // e.g. no descriptor left for /proc: the rest of the report stands, the group says why it is old
      String why = "cannot read " + (err instanceof UncheckedIOException ? err.getCause() : err).getMessage();
      if (group.unavailable() == null) {
        LOG.warn("port {}'s group: {}; /stats shows the last group read, marked unavailable", settings.port(), why);
      }
      group = group.unavailable(why);
    }).onSuccess(read -> {
      PortGroup before = group;
      group = read;
      if (before.unavailable() != null) {
        LOG.info("port {}'s group read again", settings.port());
      }
      if (handedOver()) {
        // the sockets now foreign are the ones this process handed to its successor
        return;
      }
      noticeReplacedSelector(read);
      if (read.hasForeignMembers() && (read.foreignTcp() != before.foreignTcp()
          || read.foreignUdp() != before.foreignUdp())) {
        if (locksGroup()) {
          LOG.warn("another process joined port {}: {} foreign TCP listeners, {} foreign UDP sockets; our BPF"
              + " selector locks them out (they get no traffic) unless that process attaches a selector of its own",
              settings.port(), read.foreignTcp(), read.foreignUdp());
        } else {
          LOG.warn("another process joined port {}: {} foreign TCP listeners, {} foreign UDP sockets take a share"
              + " of the traffic", settings.port(), read.foreignTcp(), read.foreignUdp());
          warnIfNoMigration(read);
        }
      } else if (!read.hasForeignMembers() && before.hasForeignMembers()) {
        LOG.info("no foreign member left on port {}", settings.port());
      }
    });
  }

  /**
   * While our selector is attached, no other process's socket gets a connection; when one accepts a connection that
   * it did not have at the last read, another selector steers the group (ours was replaced). Said once.
   */
  private void noticeReplacedSelector(PortGroup read) {
    Set<Long> earlier = foreignConnectionsBefore;
    foreignConnectionsBefore = read.foreignTcp() > 0 ? read.foreignConnections() : null;
    if (earlier == null || !locksGroup() || earlier.containsAll(read.foreignConnections())) {
      return;
    }
    selectorReplaced = true;
    LOG.warn("port {}: another process's sockets accept new connections, so our BPF selector no longer steers the"
        + " group: that process attached a selector of its own (a reuseport-server with steering does, as in a plain"
        + " upgrade), and this process gets no new traffic", settings.port());
  }

  /** Reads the sysctl only when a second process shares the port, i.e. when closing a listener could lose. */
  private void warnIfNoMigration(PortGroup read) {
    if (read.foreignTcp() == 0) {
      return;
    }
    vertx.executeBlocking(KernelTunables::tcpMigrateReq, false).onSuccess(value -> {
      if (value == 0) {
        LOG.warn("net.ipv4.tcp_migrate_req is 0 and another process shares port {}: when either closes its"
            + " listeners, the connections queued on them are reset; set it to 1, or upgrade with --takeover",
            settings.port());
      }
    });
  }
}
