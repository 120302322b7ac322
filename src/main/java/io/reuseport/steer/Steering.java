package io.reuseport.steer;

import io.micrometer.core.instrument.Gauge;
import io.reuseport.config.ConfigException;
import io.reuseport.config.ServerConfig;
import io.reuseport.config.Setting;
import io.reuseport.config.TransportKind;
import io.reuseport.metrics.ServerMeters;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Locale;
import java.util.function.IntSupplier;

/**
 * The {@code steering} setting put to work: decides at start-up whether this process steers its group with the BPF
 * {@link Selector} or leaves it to the kernel's hash (and says why, once), registers the instances' sockets,
 * attaches the program once per group (TCP and UDP) and runs the {@link Watchdog}. Its view goes to {@code /stats}
 * and {@code /metrics}.
 */
public final class Steering {

  private static final Logger LOG = LoggerFactory.getLogger(Steering.class);
  /** Back in the table once running again for this many thresholds: a loop that keeps blocking does not flap. */
  static final int RECOVERY_THRESHOLDS = 3;
  /** Heartbeats and checks per threshold. */
  static final int CHECKS_PER_THRESHOLD = 6;

  private final io.reuseport.config.Steering configured;
  private final int instances;
  private final long thresholdMs;
  private final Heartbeats heartbeats;
  private volatile Selector selector;
  private volatile String reason;
  private volatile Watchdog watchdog;
  private volatile SocketSlots slots;
  /** Whether this process handed its sockets to the process that took it over. */
  private volatile boolean handedOver;
  /**
   * Whether the group's sockets are {@code AF_INET} (epoll; see ReusePortBinder): only then does a locked group keep
   * every IPv4 connection. Netty's io_uring listener is always a dual-stack {@code AF_INET6} socket, and an
   * {@code AF_INET} socket of another process on the port is not in that group: the kernel's lookup prefers it for
   * IPv4 over the whole group, whatever the selector does.
   */
  private final boolean ipv4Group;

  private Steering(ServerConfig config, Selector selector, String reason) {
    this.ipv4Group = config.transport().resolved() == TransportKind.EPOLL;
    this.configured = config.steering();
    this.instances = config.instances();
    this.thresholdMs = config.stallThresholdMs();
    this.heartbeats = new Heartbeats(config.instances());
    this.selector = selector;
    this.reason = reason;
  }

  /**
   * How the selector gets into the kernel: {@link Selector#load} in the server. The seam exists for one test
   * ({@code SteeringMigrateTest}), which hands in a loader that refuses {@code SELECT_OR_MIGRATE} as a kernel older
   * than 5.14 does, to watch this class fall back to plain {@code SELECT}.
   */
  @FunctionalInterface
  interface SelectorLoader {
    Selector load(int instances, long flowIdleSeconds, boolean migrate);
  }

  /**
   * Decides before anything binds: loads the selector when the configuration asks for it and this process may.
   *
   * @throws ConfigException with {@code steering=bpf} when the selector cannot be loaded (missing CAP_BPF, the
   *     verifier's log): the server must not start without it
   */
  public static Steering prepare(ServerConfig config) {
    return prepare(config, Selector::load);
  }

  /** {@link #prepare(ServerConfig)} with the selector loaded by {@code loader}. */
  static Steering prepare(ServerConfig config, SelectorLoader loader) {
    if (config.steering() == io.reuseport.config.Steering.KERNEL) {
      return kernel(config, "steering=kernel");
    }
    if (!config.steerable()) {
      // ServerConfig already refused bpf here
      return kernel(config, "balancing " + config.balancing().id() + ", transport " + config.transport().id()
          + ": only a reuseport group of native sockets (epoll or io_uring) can be steered");
    }
    if (config.instances() > SelectorProgram.MAX_SLOTS) {
      return refuseOrFallBack(config, config.instances() + " instances: the selector steers at most "
          + SelectorProgram.MAX_SLOTS);
    }
    try {
      return new Steering(config, load(config.instances(), config.udpFlowIdleSeconds(), loader),
          "the BPF selector loaded");
    } catch (BpfException e) {
      String why = e.notPermitted() ? "cannot load the BPF selector: " + Capabilities.explainNotPermitted()
          + " [" + e.getMessage() + "]" : "cannot load the BPF selector: " + e.getMessage();
      return refuseOrFallBack(config, why);
    } catch (LinkageError e) {
      return refuseOrFallBack(config, "cannot load the BPF selector: JNA unavailable: " + e);
    }
  }

  /**
   * Loads the selector as {@code SELECT_OR_MIGRATE} (Linux 5.14+: a closing listener's queued requests go to a live
   * one of ours, without {@code tcp_migrate_req}); where the kernel does not know that attach type, as plain
   * {@code SELECT}, and says what is lost.
   */
  private static Selector load(int instances, int flowIdleSeconds, SelectorLoader loader) {
    try {
      return loader.load(instances, flowIdleSeconds, true);
    } catch (BpfException e) {
      if (e.notPermitted()) {
        throw e;
      }
      LOG.warn("steering: cannot load the selector as SELECT_OR_MIGRATE ({}); loaded as SELECT: a closing"
          + " listener's queued connections are reset unless net.ipv4.tcp_migrate_req=1", e.getMessage());
      return loader.load(instances, flowIdleSeconds, false);
    }
  }

  private static Steering refuseOrFallBack(ServerConfig config, String why) {
    if (config.steering() == io.reuseport.config.Steering.BPF) {
      throw new ConfigException(Setting.STEERING.key(), "bpf required but " + why);
    }
    return kernel(config, why);
  }

  private static Steering kernel(ServerConfig config, String why) {
    if (config.steering() == io.reuseport.config.Steering.AUTO) {
      LOG.warn("steering auto: the kernel's hash picks the instance, blind to a stalled one: {}", why);
    } else {
      LOG.info("steering: the kernel's hash picks the instance ({})", why);
    }
    return new Steering(config, null, why);
  }

  /** The instances stamp these from their own event loops. */
  public Heartbeats heartbeats() {
    return heartbeats;
  }

  /** How often each instance stamps its heartbeat. */
  public long stampPeriodMs() {
    return Math.max(1, thresholdMs / CHECKS_PER_THRESHOLD);
  }

  /** Whether the BPF selector steers (after {@link #start}). */
  public boolean active() {
    return selector != null;
  }

  /**
   * Puts each instance's sockets in the selector's map, attaches the program to the TCP group and the UDP group
   * through instance 0's sockets, writes the table and starts the watchdog. Does nothing with the kernel's hash.
   *
   * @param sockets per instance (index = id), its TCP listener's and UDP socket's descriptors
   * @throws ConfigException with {@code steering=bpf} when the kernel refuses (auto falls back and says why)
   */
  public void start(List<int[]> sockets) {
    Selector loaded = selector;
    if (loaded == null) {
      return;
    }
    try {
      SocketSlots mine = new SocketSlots(sockets);
      mine.putAll(loaded);
      slots = mine;
      Watchdog dog = new Watchdog(loaded, mine, heartbeats, thresholdMs, RECOVERY_THRESHOLDS * thresholdMs,
          stampPeriodMs());
      // the table before the program: from its first packet on, it steers to every instance
      dog.start();
      loaded.attach(sockets.get(0)[0]);
      if (sockets.get(0)[1] >= 0) {
        loaded.attach(sockets.get(0)[1]);
      }
      watchdog = dog;
      reason = "the BPF selector steers (loaded and attached)";
      LOG.info("steering {}: BPF selector attached to the {} group{}; an instance whose event loop makes"
          + " no progress for {} ms gets no new traffic until it has run again for {} ms", configured.id(),
          sockets.get(0)[1] >= 0 ? "TCP and UDP" : "TCP", sockets.get(0)[1] >= 0 ? "s" : "", thresholdMs,
          RECOVERY_THRESHOLDS * thresholdMs);
    } catch (BpfException e) {
      stop();
      loaded.close();
      selector = null;
      refuseOrFallBack(configured, e.getMessage());
    }
  }

  private void refuseOrFallBack(io.reuseport.config.Steering mode, String why) {
    if (mode == io.reuseport.config.Steering.BPF) {
      throw new ConfigException(Setting.STEERING.key(), "bpf required but cannot attach the selector: " + why);
    }
    reason = "cannot attach the BPF selector: " + why;
    LOG.warn("steering auto: the kernel's hash picks the instance: {}", reason);
  }

  /** Stops watching (draining is not a stall): the table stays as it is, the program stays attached. */
  public void stop() {
    Watchdog dog = watchdog;
    if (dog != null) {
      dog.stop();
    }
  }

  /**
   * Lets the sockets go to the process that took them over: stops watching and takes them out of this process's
   * socket map (a socket can be in one selector's map at a time; the new process retries until they are free).
   * The new process has attached its own program by then, so this one's table no longer matters.
   */
  public void handOver() {
    handedOver = true;
    stop();
    Selector loaded = selector;
    SocketSlots mine = slots;
    if (loaded != null && mine != null) {
      try {
        mine.removeAll(loaded);
      } catch (BpfException e) {
        LOG.warn("steering: cannot take the sockets out of the selector: {}; the new process steers them once"
            + " this one has exited", e.getMessage());
      }
    }
  }

  /**
   * Stops watching and closes this process's descriptors of the program and maps (once the server stopped, or
   * failed to start). An attached program stays the group's selector until the group's last socket closes.
   */
  public void close() {
    stop();
    Selector loaded = selector;
    if (loaded != null) {
      loaded.close();
    }
  }

  /**
   * Whether sockets of other processes on the port get nothing: while the selector is attached, it always selects
   * one of ours (see {@link SelectorProgram}). Not claimed on io_uring, where a foreign {@code AF_INET} socket
   * outranks the group (see {@link #ipv4Group}), nor after a hand-over (the group's sockets are the successor's, out
   * of our maps). A process of the same user that attaches a selector of its own replaces ours, which this process
   * is not told: the stats collector notices it when other processes' sockets accept new connections.
   */
  public boolean locksGroup() {
    return ipv4Group && selector != null && watchdog != null && !handedOver;
  }

  /** The {@code steering} part of {@code /stats}. */
  public JsonObject toJson() {
    Watchdog dog = watchdog;
    long[] pinned = pinnedDatagrams(dog);
    JsonArray perInstance = new JsonArray();
    for (int id = 0; id < instances; id++) {
      boolean out = dog != null && dog.outSinceMs(id) != 0;
      LoadPolicy.Shares shares = dog == null ? null : dog.shares();
      double busy = shares == null ? Double.NaN : shares.busy()[id];
      perInstance.add(new JsonObject()
          .put("id", id)
          .put("tableShare", dog == null ? null : BucketTable.share(dog.table(), id))
          .put("loopBusy", Double.isNaN(busy) ? null : Math.round(busy * 1000) / 1000.0)
          .put("shareReason", shares == null ? null : shares.reason(id))
          .put("steeredAround", out)
          .put("since", out ? dog.outSinceMs(id) : null)
          .put("why", out ? dog.why(id) : null)
          .put("pinnedDatagrams", pinned == null ? null : pinned[id]));
    }
    return new JsonObject()
        .put("configured", configured.id())
        .put("selector", active() ? "bpf" : "kernel")
        .put("reason", reason)
        .put("locksGroup", locksGroup())
        .put("handedOver", handedOver)
        .put("stallThresholdMs", thresholdMs)
        .put("instances", perInstance);
  }

  /**
   * Per instance, the datagrams so far of live UDP flows kept there although the table sends their bucket elsewhere;
   * null while nothing steers, or once the selector is handed over (its maps are another process's then).
   */
  private long[] pinnedDatagrams(Watchdog dog) {
    if (dog == null || selector == null || handedOver) {
      return null;
    }
    try {
      return selector.pinnedDatagrams(instances);
    } catch (RuntimeException e) {
      // closed meanwhile (stop, hand-over): the view goes without it
      return null;
    }
  }

  /** The steering meters, named as agreed in the team's list. */
  public void bindMeters(ServerMeters meters) {
    meters.gauge(Gauge.builder("reuseport.steering.active", this, s -> s.active() ? 1 : 0)
        .description("1 when the BPF selector steers the group, 0 when the kernel's hash does"));
    meters.gauge(Gauge.builder("reuseport.steering.info", () -> 1)
        .description("the steering configured and in effect, and why")
        .tag("configured", configured.id()).tag("selector", active() ? "bpf" : "kernel")
        .tag("reason", reason == null ? "" : reason));
    for (int i = 0; i < instances; i++) {
      int id = i;
      meters.gauge(Gauge.builder("reuseport.instance.steered.around", this, s -> s.steeredAround(id))
          .description("1 while the selector steers new traffic around this instance (its loop stalled)")
          .tag("worker", Integer.toString(id)));
      meters.gauge(Gauge.builder("reuseport.instance.table.share", this, s -> s.tableShare(id))
          .description("share of the selector's hash buckets that go to this instance (NaN: kernel's hash)")
          .tag("worker", Integer.toString(id)));
      meters.gauge(Gauge.builder("reuseport.steering.loop.busy.ratio", this, s -> s.loopBusy(id))
          .description("share of the time this worker's event loop was on a CPU or waiting for one, smoothed over"
              + " about " + LoopLoad.SMOOTHING_MS + " ms: the load the selector steers by (NaN: not steering)")
          .tag("worker", Integer.toString(id)));
      for (LoadPolicy.State state : LoadPolicy.State.values()) {
        meters.gauge(Gauge.builder("reuseport.steering.share.state", this, s -> s.hasState(id, state))
            .description("1 for the reason of this worker's share of new connections: even, busy (less than even,"
                + " by its spare capacity) or stalled (none); all 0 when not steering")
            .tag("worker", Integer.toString(id)).tag("state", state.name().toLowerCase(Locale.ROOT)));
      }
    }
  }

  private double loopBusy(int id) {
    Watchdog dog = watchdog;
    return dog == null ? Double.NaN : dog.shares().busy()[id];
  }

  private double hasState(int id, LoadPolicy.State state) {
    Watchdog dog = watchdog;
    return dog != null && dog.shares().states()[id] == state ? 1 : 0;
  }

  /**
   * {@code reuseport_group_locked_out{protocol}}: the foreign members the selector locks out (0 without it).
   *
   * @param foreignTcp the group's foreign TCP listeners now, foreignUdp its foreign UDP sockets
   */
  public void bindLockedOut(ServerMeters meters, IntSupplier foreignTcp, IntSupplier foreignUdp) {
    meters.gauge(Gauge.builder("reuseport.group.locked.out", this, s -> s.locksGroup() ? foreignTcp.getAsInt() : 0)
        .description("sockets of another process in the group that the BPF selector locks out (get no traffic)")
        .tag("protocol", "tcp"));
    meters.gauge(Gauge.builder("reuseport.group.locked.out", this, s -> s.locksGroup() ? foreignUdp.getAsInt() : 0)
        .description("sockets of another process in the group that the BPF selector locks out (get no traffic)")
        .tag("protocol", "udp"));
  }

  private double steeredAround(int id) {
    Watchdog dog = watchdog;
    return dog != null && dog.outSinceMs(id) != 0 ? 1 : 0;
  }

  private double tableShare(int id) {
    Watchdog dog = watchdog;
    return dog == null ? Double.NaN : BucketTable.share(dog.table(), id);
  }
}
