package io.reuseport.load;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

/**
 * One closed-loop client: one request in flight at a time, the next one started when the last one succeeded, failed
 * or timed out. Lives on one event-loop context; every method runs there, so its state needs no locks.
 *
 * <p>Each request has a generation number; an answer, error or close for an older generation is ignored, so a
 * request ends exactly once: every measured request counts once as a success, an error or a timeout. An answer
 * after the timeout counts as a timeout in every mode, so no success has a latency over {@code --timeout}.
 *
 * <p>A failed connect (refused, unreachable, timed out) is its request's error; the worker then waits before its
 * next attempt ({@link RetryBackoff}) and gives up after {@code --connect-retries} failed connects in a row, so a
 * closed port costs a few attempts per worker instead of a tight loop of them.
 */
abstract class LoadWorker {

  protected final Vertx vertx;
  private final Context context;
  private final LoadRecorder recorder;
  private final RequestBudget budget;
  private final long timeoutNanos;
  private final long intervalNanos;
  private final int connectRetries;
  private final Promise<Void> finished = Promise.promise();
  private long generation;
  private boolean inFlight;
  private boolean measured;
  private long sentAt;
  private long nextStart;
  private long watchdog = -1;
  private int connectFailures;

  /** Call on the context the worker should live on. */
  LoadWorker(Vertx vertx, LoadRecorder recorder, RequestBudget budget, LoadOptions options) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.recorder = recorder;
    this.budget = budget;
    this.timeoutNanos = options.timeout().toNanos();
    this.intervalNanos = options.workerIntervalNanos();
    this.connectRetries = options.connectRetries();
  }

  /** Opens, runs requests until the budget says stop, closes. Completes when nothing of it is left open. */
  final Future<Void> run() {
    open().onComplete(opened -> {
      if (opened.failed()) {
        finished.fail(opened.cause());
        return;
      }
      long checkEveryMs = Math.max(1, Math.min(100, timeoutNanos / 10_000_000));
      watchdog = vertx.setPeriodic(checkEveryMs, id -> checkTimeout());
      nextStart = System.nanoTime();
      next();
    });
    return finished.future();
  }

  /** Prepares sockets that live as long as the worker. */
  protected Future<Void> open() {
    return Future.succeededFuture();
  }

  /** Sends request {@code gen}; the answer must end in {@link #succeeded} or {@link #failed}. */
  protected abstract void send(long gen);

  /** Tidies up after a request ended (e.g. closes a connection); the next request waits for it. */
  protected abstract Future<Void> afterRequest(boolean ok);

  /** Closes whatever is still open. */
  protected abstract Future<Void> close();

  protected final long generation() {
    return generation;
  }

  /** True while request {@code gen} is the one in flight. */
  protected final boolean awaiting(long gen) {
    return inFlight && gen == generation;
  }

  /**
   * The answer to request {@code gen} arrived. One that comes after the timeout is a timeout, whether or not the
   * periodic check has seen it yet (on a busy loop the check runs late): the answer is in, so the connection is
   * still in step and is kept.
   */
  protected final void succeeded(long gen) {
    if (awaiting(gen)) {
      inFlight = false;
      long latency = System.nanoTime() - sentAt;
      if (measured) {
        if (latency >= timeoutNanos) {
          recorder.timeout();
        } else {
          recorder.success(latency);
        }
      }
      afterRequest(true).onComplete(done -> next());
    }
  }

  protected final void failed(long gen, Throwable cause) {
    if (awaiting(gen)) {
      inFlight = false;
      if (measured) {
        recorder.error(cause);
      }
      // through the task queue: a socket that fails at once must not recurse request after request
      afterRequest(false).onComplete(done -> context.runOnContext(v -> next()));
    }
  }

  /** A connection was established: the server will count it, and connect failures in a row start again. */
  protected final void connected() {
    connectFailures = 0;
    recorder.opened();
  }

  /** A datagram was handed to the socket: the server should count it. */
  protected final void sentDatagram() {
    recorder.opened();
  }

  /** Request {@code gen} failed to connect: an error, then a back-off, or the end of this worker. */
  protected final void connectFailed(long gen, Throwable cause) {
    if (!awaiting(gen)) {
      return;
    }
    inFlight = false;
    if (measured) {
      recorder.error(cause);
    }
    connectFailures++;
    if (connectFailures > connectRetries) {
      recorder.gaveUp();
      stop();
      return;
    }
    long delayMs = RetryBackoff.delayMs(connectFailures);
    afterRequest(false).onComplete(done -> vertx.setTimer(delayMs, id -> next()));
  }

  /** An answer that matched no request in flight. */
  protected final void late() {
    recorder.lateReply();
  }

  private void checkTimeout() {
    if (inFlight && System.nanoTime() - sentAt >= timeoutNanos) {
      inFlight = false;
      if (measured) {
        recorder.timeout();
      }
      afterRequest(false).onComplete(done -> next());
    }
  }

  private void next() {
    if (intervalNanos > 0) {
      long now = System.nanoTime();
      long due = nextStart;
      nextStart = Math.max(due, now) + intervalNanos;
      long waitMs = (due - now) / 1_000_000;
      if (waitMs >= 1) {
        vertx.setTimer(waitMs, id -> begin());
        return;
      }
    }
    begin();
  }

  private void begin() {
    RequestBudget.Ticket ticket = budget.tryStart();
    if (ticket == RequestBudget.Ticket.STOP) {
      stop();
      return;
    }
    measured = ticket == RequestBudget.Ticket.MEASURED;
    generation++;
    inFlight = true;
    sentAt = System.nanoTime();
    send(generation);
  }

  private void stop() {
    vertx.cancelTimer(watchdog);
    close().onComplete(closed -> finished.tryComplete());
  }
}
