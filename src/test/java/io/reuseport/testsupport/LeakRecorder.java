package io.reuseport.testsupport;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Records what Netty's leak detector reports (an ERROR starting with "LEAK:" from {@code ResourceLeakDetector}), for
 * {@link LeakCheck} to fail the test with. Attached in {@code logback-test.xml}.
 */
public final class LeakRecorder extends AppenderBase<ILoggingEvent> {

  private static final ConcurrentLinkedQueue<String> LEAKS = new ConcurrentLinkedQueue<>();

  @Override
  protected void append(ILoggingEvent event) {
    if (event.getLevel() == Level.ERROR && event.getFormattedMessage().startsWith("LEAK:")) {
      LEAKS.add(event.getFormattedMessage());
    }
  }

  /** The leaks reported since the last call. */
  static List<String> drain() {
    List<String> leaks = new ArrayList<>();
    for (String leak = LEAKS.poll(); leak != null; leak = LEAKS.poll()) {
      leaks.add(leak);
    }
    return leaks;
  }
}
