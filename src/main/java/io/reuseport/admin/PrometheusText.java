package io.reuseport.admin;

import java.math.BigDecimal;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes the {@code le} label of histogram buckets and the {@code quantile} label of summaries in Prometheus's own
 * form. The Prometheus Java client (1.3, under Micrometer) writes them with {@code Double.toString}:
 * {@code le="5.0E-4"}; Prometheus and its Go client write {@code le="0.0005"}, and Prometheus 3 rewrites every scraped
 * {@code le} and {@code quantile} into that form ({@code FormatOpenMetricsFloat}: Go's shortest {@code 'g'} format,
 * {@code ".0"} added to a whole number). A Prometheus 2 stores the label as scraped, so {@code le="0.0005"} in a
 * query or a dashboard would find nothing; written in the canonical form, every version stores the same series.
 */
final class PrometheusText {

  private static final Pattern FLOAT_LABEL = Pattern.compile("([{,])(le|quantile)=\"([^\"]*)\"");

  private PrometheusText() {
  }

  /** {@code exposition} with every {@code le} and {@code quantile} label value in the canonical form. */
  static String canonicalFloatLabels(String exposition) {
    Matcher label = FLOAT_LABEL.matcher(exposition);
    return label.replaceAll(m -> Matcher.quoteReplacement(m.group(1) + m.group(2) + "=\"" + canonical(m.group(3))
        + "\""));
  }

  /** A label value that is a number, as Prometheus writes it; anything else as it is. */
  static String canonical(String value) {
    double d;
    try {
      d = Double.parseDouble(value);
    } catch (NumberFormatException e) {
      return value;
    }
    return format(d);
  }

  /** Prometheus's {@code FormatOpenMetricsFloat}: Go's {@code strconv.FormatFloat(d, 'g', -1, 64)}, plus ".0". */
  static String format(double d) {
    if (Double.isNaN(d)) {
      return "NaN";
    }
    if (Double.isInfinite(d)) {
      return d > 0 ? "+Inf" : "-Inf";
    }
    if (d == 0) {
      return "0.0";
    }
    BigDecimal shortest = new BigDecimal(Double.toString(d)).stripTrailingZeros();
    int exponent = shortest.precision() - shortest.scale() - 1;
    // Go's shortest 'g' writes an exponent below 1e-4 and from 1e6 on: 5e-05, 1e+06
    if (exponent < -4 || exponent >= 6) {
      String digits = shortest.unscaledValue().abs().toString();
      String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
      int magnitude = Math.abs(exponent);
      return (d < 0 ? "-" : "") + mantissa + "e" + (exponent < 0 ? "-" : "+") + (magnitude < 10 ? "0" : "")
          + magnitude;
    }
    String plain = shortest.toPlainString();
    return plain.contains(".") ? plain : plain + ".0";
  }
}
