package io.reuseport.stats;

/**
 * One instance's rates over one stats interval, per second.
 */
record Rates(double tcpAcceptedPerSec, double tcpBytesInPerSec, double udpDatagramsInPerSec,
             double udpBytesInPerSec, double httpRequestsPerSec) {

  /** The rates between two snapshots of one instance taken {@code seconds} apart. */
  static Rates between(InstanceSnapshot before, InstanceSnapshot now, double seconds) {
    return new Rates(
        (now.tcp().accepted() - before.tcp().accepted()) / seconds,
        (now.tcp().bytesIn() - before.tcp().bytesIn()) / seconds,
        (now.udp().datagramsIn() - before.udp().datagramsIn()) / seconds,
        (now.udp().bytesIn() - before.udp().bytesIn()) / seconds,
        (now.http().requests() - before.http().requests()) / seconds);
  }
}
