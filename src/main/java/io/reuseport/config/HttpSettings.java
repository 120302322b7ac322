package io.reuseport.config;

/**
 * The settings only HTTP services read, parsed once with the others.
 *
 * @param tlsCertPath PEM certificate chain; empty for cleartext
 * @param tlsKeyPath PEM private key of that certificate; empty for cleartext
 */
public record HttpSettings(String tlsCertPath, String tlsKeyPath) {

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
