/**
 * A float as Prometheus writes `le` and `quantile` label values since 3.0: Go's
 * `strconv.FormatFloat(f, 'g', -1, 64)` with ".0" appended when the result has neither a "."
 * nor an "e" (`labels.FormatOpenMetricsFloat`, applied by `normalizeFloatsInLabelValues` in
 * model/textparse). So `le="1"`, `le="1.0"` and `le="1e0"` all become `"1.0"`, `".5"` becomes
 * `"0.5"`, `1e6` becomes `"1e+06"`: a histogram pushed through Sluice and the same one scraped
 * by Prometheus are one series, not two.
 */
export function formatOpenMetricsFloat(f: number): string {
  if (f === 1) return '1.0';
  if (f === 0) return '0.0'; // -0 too, as Go's f == 0
  if (f === -1) return '-1.0';
  if (Number.isNaN(f)) return 'NaN';
  if (f === Number.POSITIVE_INFINITY) return '+Inf';
  if (f === Number.NEGATIVE_INFINITY) return '-Inf';
  // toExponential() without digits gives the shortest round-trip digits, as Go's precision -1.
  const exponential = f.toExponential();
  const e = exponential.indexOf('e');
  const exponent = Number(exponential.slice(e + 1));
  let text: string;
  // Go's 'g' with shortest precision switches to %e below 1e-4 and from 1e6 (its eprec of 6),
  // with a signed exponent of at least two digits; JavaScript's String() switches at 1e21.
  if (exponent < -4 || exponent >= 6) text = `${exponential.slice(0, e)}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  else text = String(f);
  return text.includes('.') || text.includes('e') ? text : `${text}.0`;
}
