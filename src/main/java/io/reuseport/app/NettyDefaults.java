package io.reuseport.app;

/**
 * Netty system properties whose defaults do not suit a server whose event loops are watched for stalls; set before
 * Netty first reads them, and only where the operator has not set them ({@code -D} wins).
 *
 * <ul>
 *   <li>{@code io.netty.jfr.enabled=false}. Netty 4.2 turns its JFR events on wherever the {@code jdk.jfr} module
 *   is present, recording or not, and its adaptive allocator touches one ({@code AllocateChunkEvent}) on the first
 *   chunk each loop allocates. Initialising the first JFR event class loads JFR's metadata (types, annotation
 *   proxies): hundreds of milliseconds of CPU on the event loop that gets there first, while every other loop that
 *   allocates its first chunk meanwhile sleeps on the class's initialisation lock. On a starved machine that took
 *   seconds, and the watchdog took both loops out: one sleeping ({@code on a CPU 0 ms, waiting for one 3 ms}), one
 *   busy. With the events off the allocator skips them; an operator who records Netty's JFR events sets
 *   {@code -Dio.netty.jfr.enabled=true} and pays that once.</li>
 * </ul>
 */
public final class NettyDefaults {

  static final String JFR_ENABLED = "io.netty.jfr.enabled";

  private NettyDefaults() {
  }

  /** Sets the defaults not given on the command line; call before anything creates a Vert.x or Netty object. */
  public static void apply() {
    if (System.getProperty(JFR_ENABLED) == null) {
      System.setProperty(JFR_ENABLED, "false");
    }
  }
}
