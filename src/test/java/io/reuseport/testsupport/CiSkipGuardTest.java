package io.reuseport.testsupport;

import io.netty.channel.uring.IoUring;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which skips fail a CI run as root ({@link CiSkipGuard#refusal}): the decision, on this machine's facts. That the
 * guard fails a real run: docs/RELIABILITY.md, "Tests".
 */
class CiSkipGuardTest {

  @Test
  void aRootOnlyTestSkippedWhileRunningAsRootIsRefused() {
    assertThat(CiSkipGuard.refusal("SteeringMigrateTest", "skipped: the BPF selector needs root (CAP_BPF) to load"))
        .hasValueSatisfying(why -> assertThat(why).contains("no allowed skip covers it"));
  }

  @Test
  void aMissingToolThatCiInstallsIsRefused() {
    assertThat(CiSkipGuard.refusal("RefServerTest", "gcc is not installed (Debian: apt-get install gcc): skipped"))
        .isPresent();
  }

  @Test
  void anAllowedMessageFromAnotherTestClassIsRefused() {
    assertThat(CiSkipGuard.refusal("SelectorWalkTest", "io_uring unavailable here: nothing")).isPresent();
  }

  @Test
  void anIoUringSkipIsAllowedOnlyWhereIoUringIsUnavailable() {
    assertThat(CiSkipGuard.refusal("TransportTest", "io_uring unavailable here: " + IoUring.unavailabilityCause())
        .isPresent()).as("refused, io_uring available: %s", IoUring.isAvailable()).isEqualTo(IoUring.isAvailable());
  }

  @Test
  void theSoakMayNotSkip() {
    // it was opt-in; its bounded mode now runs in every build
    assertThat(CiSkipGuard.refusal("SoakTest", "skipped: the soak takes minutes; run it with -Dsoak.seconds=300"))
        .isPresent();
  }
}
