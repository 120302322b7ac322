package io.reuseport.testsupport;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.LifecycleMethodExecutionExceptionHandler;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.opentest4j.TestAbortedException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * No silent skips in CI: in a run with {@code CI=true} as root (what {@code .ci/run} is), a test that skips (a failed
 * assumption, in the test or in a {@code @BeforeAll}/{@code @BeforeEach}) fails instead, unless an
 * {@link AllowedSkip} covers it and confirms that this machine cannot run it. Elsewhere (a developer's machine, not
 * root) skips stay skips. Registered for every test through {@code META-INF/services} (extension autodetection,
 * junit-platform.properties).
 */
public final class CiSkipGuard implements TestExecutionExceptionHandler, LifecycleMethodExecutionExceptionHandler {

  private static final boolean ENFORCED = "true".equals(System.getenv("CI")) && isRoot();

  @Override
  public void handleTestExecutionException(ExtensionContext context, Throwable thrown) throws Throwable {
    throw judged(context, thrown);
  }

  @Override
  public void handleBeforeAllMethodExecutionException(ExtensionContext context, Throwable thrown) throws Throwable {
    throw judged(context, thrown);
  }

  @Override
  public void handleBeforeEachMethodExecutionException(ExtensionContext context, Throwable thrown)
      throws Throwable {
    throw judged(context, thrown);
  }

  private static Throwable judged(ExtensionContext context, Throwable thrown) {
    if (!ENFORCED || !(thrown instanceof TestAbortedException)) {
      return thrown;
    }
    String testClass = context.getRequiredTestClass().getSimpleName();
    return refusal(testClass, thrown.getMessage()).<Throwable>map(why -> new AssertionError(why, thrown))
        .orElse(thrown);
  }

  /** Why a skip of {@code testClass} with this message fails a CI run as root; empty when it is allowed. */
  static Optional<String> refusal(String testClass, String message) {
    Optional<AllowedSkip> allowed = AllowedSkip.matching(testClass, message);
    if (allowed.isEmpty()) {
      return Optional.of(testClass + " skipped in a CI run as root, and no allowed skip covers it: '" + message
          + "' (allowed skips: AllowedSkip, docs/RELIABILITY.md \"Tests\")");
    }
    if (!allowed.get().confirmed()) {
      return Optional.of(testClass + " skipped ('" + message + "'), allowed only when " + allowed.get().reason()
          + "; but this machine can run it");
    }
    return Optional.empty();
  }

  private static boolean isRoot() {
    try {
      return Files.readString(Path.of("/proc/self/status")).contains("\nUid:\t0\t");
    } catch (IOException e) {
      return false;
    }
  }
}
