package io.reuseport.steer;

import java.util.Arrays;

/**
 * How many of the selector's buckets each instance gets, from how busy its event loop is: a pure function of the
 * last decision and the signals now, so that a test can replay recorded signals. The signal is each loop's busy
 * share, the part of the time its thread was on a CPU or waiting for one rather than asleep in {@code epoll_wait}
 * ({@link LoopLoad}); its spare capacity is the rest.
 *
 * <ul>
 *   <li><b>Stalled</b> (the {@link StallJudge}'s verdict): no bucket, as before.</li>
 *   <li><b>Busy</b>: a loop becomes busy when it is at least {@value #BUSY_ENTER} busy and busier than the mean of
 *   the other healthy loops by at least {@value #BAND_ENTER}; it stays busy until it is under {@value #BUSY_LEAVE}
 *   or within {@value #BAND_LEAVE} of the others. A busy loop's weight is the cube of its spare capacity over
 *   the others' (an instance with half their spare capacity gets an eighth of their share of new connections: a
 *   new connection waits behind whatever task the loop is running, so its delay grows much faster than the busy
 *   share, and on a loaded machine the contrast between loops shrinks), never less than {@value #MIN_WEIGHT} of an even share and at least one bucket: it runs, it is not stalled.</li>
 *   <li><b>Even</b>: every other loop, weight 1. While no loop is busy, the table is exactly the stall-only table
 *   (a loop out gives its buckets to the others, nothing else moves). The even loops take at most
 *   {@value #MAX_TAKE} times an even share each: when most loops are busy, moving all their traffic onto the few
 *   idle ones would only make those busy in turn.</li>
 * </ul>
 *
 * <p>Hysteresis twice over: the two bands above (a loop that flaps between 60 and 90 % while the others run at
 * 20 % stays busy; loops within the band of each other keep an even table), and a table that changes only when a
 * loop changes state or one instance's count would move by more than {@link #step} buckets (an eighth of an even
 * share) or by more than half (a busy loop's few buckets), so a busy loop's slowly varying load does not rewrite
 * the table every check.
 */
final class LoadPolicy {

  /** The state of one instance, and why it has the share it has. */
  enum State {
    EVEN, BUSY, STALLED
  }

  /**
   * A decision: per instance, its state, the busy share it was taken on ({@code NaN}: unknown) and its buckets.
   *
   * @param buckets per instance, how many of the {@link SelectorProgram#BUCKETS} buckets it gets; they add up
   */
  record Shares(State[] states, double[] busy, int[] buckets) {

    /** Every instance even, nothing known: the table a process starts with. */
    static Shares start(int instances) {
      State[] states = new State[instances];
      Arrays.fill(states, State.EVEN);
      double[] busy = new double[instances];
      Arrays.fill(busy, Double.NaN);
      return new Shares(states, busy, BucketTable.evenCounts(allTrue(instances)));
    }

    /** Why instance {@code i} has its share, as {@code /stats} shows it: {@code busy 92 %}, {@code stalled}, ... */
    String reason(int i) {
      return switch (states[i]) {
        case STALLED -> "stalled";
        case BUSY -> "busy " + Math.round(busy[i] * 100) + " %";
        case EVEN -> "even";
      };
    }

    double share(int i) {
      return (double) buckets[i] / SelectorProgram.BUCKETS;
    }
  }

  static final double BUSY_ENTER = 0.6;
  static final double BUSY_LEAVE = 0.45;
  static final double BAND_ENTER = 0.25;
  static final double BAND_LEAVE = 0.10;
  static final double MIN_WEIGHT = 1.0 / 64;
  static final double MAX_TAKE = 2.0;

  private LoadPolicy() {
  }

  /**
   * The shares now.
   *
   * @param previous the last decision (its buckets are the table in force)
   * @param stalled per instance, whether the stall judge steers around it
   * @param busy per instance, its loop's recent busy share 0..1, {@code NaN} when unknown (an unknown loop counts
   *     as even and is left out of the others' mean)
   */
  static Shares decide(Shares previous, boolean[] stalled, double[] busy) {
    int n = stalled.length;
    State[] states = new State[n];
    for (int i = 0; i < n; i++) {
      states[i] = stalled[i] ? State.STALLED : busyNow(previous.states()[i] == State.BUSY, busy[i],
          othersMean(i, stalled, busy));
    }
    int[] buckets = counts(states, busy);
    if (Arrays.equals(states, previous.states()) && withinStep(buckets, previous.buckets())) {
      buckets = previous.buckets();
    }
    return new Shares(states, busy.clone(), buckets);
  }

  private static State busyNow(boolean wasBusy, double busy, double others) {
    if (Double.isNaN(busy) || Double.isNaN(others)) {
      return State.EVEN;
    }
    double floor = wasBusy ? BUSY_LEAVE : BUSY_ENTER;
    double band = wasBusy ? BAND_LEAVE : BAND_ENTER;
    return busy >= floor && busy - others >= band ? State.BUSY : State.EVEN;
  }

  /** The mean busy share of the healthy, measured loops other than {@code i}; {@code NaN} when there are none. */
  private static double othersMean(int i, boolean[] stalled, double[] busy) {
    double sum = 0;
    int count = 0;
    for (int j = 0; j < stalled.length; j++) {
      if (j != i && !stalled[j] && !Double.isNaN(busy[j])) {
        sum += busy[j];
        count++;
      }
    }
    return count == 0 ? Double.NaN : sum / count;
  }

  /** The buckets per instance for these states. */
  static int[] counts(State[] states, double[] busy) {
    int n = states.length;
    boolean[] healthy = new boolean[n];
    boolean anyBusy = false;
    for (int i = 0; i < n; i++) {
      healthy[i] = states[i] != State.STALLED;
      anyBusy |= states[i] == State.BUSY;
    }
    if (!anyBusy) {
      return BucketTable.evenCounts(healthy);
    }
    double[] weights = weights(states, busy);
    return apportion(weights, minBuckets(n), states);
  }

  /**
   * Even loops 1, stalled 0, busy ones the cube of their spare capacity over the even ones' mean, at least
   * {@link #MIN_WEIGHT}; then raised together when the even loops would take more than {@link #MAX_TAKE} each.
   */
  private static double[] weights(State[] states, double[] busy) {
    int n = states.length;
    double evenSpare = 0;
    int evens = 0;
    for (int i = 0; i < n; i++) {
      if (states[i] == State.EVEN && !Double.isNaN(busy[i])) {
        evenSpare += 1 - busy[i];
        evens++;
      }
    }
    evenSpare = evens == 0 ? 1 : Math.max(evenSpare / evens, MIN_WEIGHT);
    double[] weights = new double[n];
    double sum = 0;
    int busyLoops = 0;
    int evenLoops = 0;
    for (int i = 0; i < n; i++) {
      weights[i] = switch (states[i]) {
        case STALLED -> 0;
        case EVEN -> 1;
        case BUSY -> Math.max(MIN_WEIGHT, Math.min(1, cube((1 - busy[i]) / evenSpare)));
      };
      sum += weights[i];
      busyLoops += states[i] == State.BUSY ? 1 : 0;
      evenLoops += states[i] == State.EVEN ? 1 : 0;
    }
    // an even loop's share is 1 / sum; at most MAX_TAKE / healthy loops
    double healthyLoops = busyLoops + evenLoops;
    double atLeast = healthyLoops / MAX_TAKE;
    if (sum < atLeast && busyLoops > 0) {
      double raise = (atLeast - sum) / busyLoops;
      for (int i = 0; i < n; i++) {
        if (states[i] == State.BUSY) {
          weights[i] = Math.min(1, weights[i] + raise);
        }
      }
    }
    return weights;
  }

  /**
   * Buckets by weight (largest remainder, ties to the lower id); busy ones rounded down, to at least {@code min}: a
   * busy loop never gets more than its weight says (at 256 buckets one bucket is 0.4 % of new connections, and on a
   * saturated loop each of them waits a burst or more), the even ones take the remainders.
   */
  private static int[] apportion(double[] weights, int min, State[] states) {
    int n = weights.length;
    double sum = Arrays.stream(weights).sum();
    int[] buckets = new int[n];
    double[] rest = new double[n];
    int given = 0;
    for (int i = 0; i < n; i++) {
      double exact = SelectorProgram.BUCKETS * weights[i] / sum;
      buckets[i] = (int) Math.floor(exact);
      if (states[i] == State.BUSY && buckets[i] < min) {
        buckets[i] = min;
      }
      rest[i] = exact - buckets[i];
      given += buckets[i];
    }
    // the remainders go to the even loops, largest first, up to MAX_TAKE even shares each; to busy ones only then
    int healthy = (int) Arrays.stream(states).filter(state -> state != State.STALLED).count();
    int evenCap = (int) Math.ceil(MAX_TAKE * SelectorProgram.BUCKETS / healthy);
    while (given < SelectorProgram.BUCKETS) {
      int best = largestRest(rest, buckets, states, State.EVEN, evenCap);
      if (best < 0) {
        best = largestRest(rest, buckets, states, State.BUSY, Integer.MAX_VALUE);
      }
      if (best < 0) {
        // cannot happen (the least busy healthy loop is never busy), but a table must add up
        best = firstHealthy(states);
      }
      buckets[best]++;
      rest[best] -= 1;
      given++;
    }
    while (given > SelectorProgram.BUCKETS) {
      // only the minimum of busy loops can overshoot: take it back from the largest even share
      int largest = 0;
      for (int i = 1; i < n; i++) {
        if (states[i] == State.EVEN && buckets[i] > buckets[largest]) {
          largest = i;
        }
      }
      buckets[largest]--;
      given--;
    }
    return buckets;
  }

  /** A busy loop's least buckets: {@link #MIN_WEIGHT} of an even share, at least one. */
  static int minBuckets(int instances) {
    return Math.max(1, (int) Math.round(MIN_WEIGHT * SelectorProgram.BUCKETS / instances));
  }

  /** The largest move of one instance's count that leaves the table as it is: an eighth of an even share. */
  static int step(int instances) {
    return Math.max(1, SelectorProgram.BUCKETS / instances / 8);
  }

  /**
   * Whether no count moves by more than the step, nor halves or doubles: a busy loop's few buckets (9 against 1, say,
   * or 2 against 1) differ by less than the step but by far more than the noise; two buckets instead of one double
   * what reaches a saturated loop.
   */
  private static boolean withinStep(int[] next, int[] previous) {
    int step = step(next.length);
    for (int i = 0; i < next.length; i++) {
      int low = Math.min(next[i], previous[i]);
      int high = Math.max(next[i], previous[i]);
      if (high - low > step || high >= 2 * low && high > low) {
        return false;
      }
    }
    return true;
  }

  /** The instance in {@code state} under {@code cap} buckets with the largest remainder, ties to the lower id; -1. */
  private static int largestRest(double[] rest, int[] buckets, State[] states, State state, int cap) {
    int best = -1;
    for (int i = 0; i < states.length; i++) {
      if (states[i] == state && buckets[i] < cap && (best < 0 || rest[i] > rest[best])) {
        best = i;
      }
    }
    return best;
  }

  private static int firstHealthy(State[] states) {
    for (int i = 0; i < states.length; i++) {
      if (states[i] != State.STALLED) {
        return i;
      }
    }
    throw new IllegalStateException("no healthy instance to give a bucket to");
  }

  private static double cube(double x) {
    return x * x * x;
  }

  private static boolean[] allTrue(int n) {
    boolean[] all = new boolean[n];
    Arrays.fill(all, true);
    return all;
  }
}
