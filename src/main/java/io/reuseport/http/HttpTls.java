package io.reuseport.http;

import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.reuseport.config.ConfigException;
import io.reuseport.config.HttpSettings;
import io.reuseport.config.Setting;

import java.io.File;

/**
 * The TLS context of the HTTP listeners, built once from the PEM files the settings name: ALPN offers {@code h2}
 * and {@code http/1.1} (a client that offers neither gets HTTP/1.1), with the ciphers HTTP/2 allows.
 */
public final class HttpTls {

  private HttpTls() {
  }

  /**
   * @return the context, or null when the settings name no certificate (cleartext)
   * @throws ConfigException naming {@code tlsCertPath} when a file cannot be read or does not hold what it should
   */
  public static SslContext context(HttpSettings settings) {
    if (!settings.tls()) {
      return null;
    }
    File cert = new File(settings.tlsCertPath());
    File key = new File(settings.tlsKeyPath());
    for (File f : new File[] {cert, key}) {
      if (!f.canRead()) {
        throw new ConfigException(f == cert ? Setting.TLS_CERT_PATH.key() : Setting.TLS_KEY_PATH.key(),
            "cannot read " + f + (f.exists() ? " (permissions?)" : " (no such file)"));
      }
    }
    try {
      return SslContextBuilder.forServer(cert, key)
          .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
          .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
              ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
              ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
              ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1))
          .build();
    } catch (javax.net.ssl.SSLException | IllegalArgumentException e) {
      throw new ConfigException(Setting.TLS_CERT_PATH.key(), "cannot use " + cert + " with " + key
          + " as a PEM certificate chain and PKCS#8 private key: " + e.getMessage());
    }
  }
}
