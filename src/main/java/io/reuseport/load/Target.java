package io.reuseport.load;

/**
 * Where the load goes: a host (name or literal address) and a port.
 */
record Target(String host, int port) {

  /**
   * Parses {@code host:port}, {@code [v6]:port} or {@code v6-literal:port} (the last colon separates the port).
   */
  static Target parse(String text) {
    int colon = text.lastIndexOf(':');
    if (colon <= 0 || colon == text.length() - 1) {
      throw new IllegalArgumentException("target '" + text + "' is not host:port");
    }
    String host = text.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(text.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("target '" + text + "' has no numeric port");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("target port " + port + " is out of range 1..65535");
    }
    return new Target(host, port);
  }

  boolean ipv6() {
    return host.indexOf(':') >= 0;
  }

  @Override
  public String toString() {
    return (ipv6() ? "[" + host + "]" : host) + ":" + port;
  }
}
