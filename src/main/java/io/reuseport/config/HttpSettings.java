package io.reuseport.config;

/**
 * The settings only HTTP services read, parsed once with the others.
 *
 * @param tlsCertPath PEM certificate chain; empty for cleartext
 * @param tlsKeyPath PEM private key of that certificate; empty for cleartext
 * @param maxRequestLineBytes longest HTTP/1 request line (414 beyond)
 * @param maxHeaderBytes largest HTTP/1 header block (431 beyond)
 * @param headerTimeoutSeconds how long a request's head may take: from accept for the first (TLS included), from
 *     the first byte after the previous response for the next
 */
public record HttpSettings(String tlsCertPath, String tlsKeyPath, int maxRequestLineBytes, int maxHeaderBytes,
                           int headerTimeoutSeconds) {

  public HttpSettings {
    if (tlsCertPath.isEmpty() != tlsKeyPath.isEmpty()) {
      Setting missing = tlsCertPath.isEmpty() ? Setting.TLS_CERT_PATH : Setting.TLS_KEY_PATH;
      throw new ConfigException(missing.key(), "TLS needs both tlsCertPath and tlsKeyPath (PEM files); set both or"
          + " neither");
    }
  }

  /** Whether the HTTP listeners speak TLS. */
  public boolean tls() {
    return !tlsCertPath.isEmpty();
  }
}
