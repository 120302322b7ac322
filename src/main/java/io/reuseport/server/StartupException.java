package io.reuseport.server;

/**
 * The server cannot start; the message is one line that says why and what to do.
 */
public final class StartupException extends RuntimeException {

  public StartupException(String message) {
    super(message);
  }

  public StartupException(String message, Throwable cause) {
    super(message, cause);
  }
}
