import { BACKSLASH, CLOSE_BRACE, COMMA, EQUALS, HASH, isBlank, LOWER_N, OPEN_BRACE, QUOTE } from './characters.ts';
import { BUCKET, COUNT, isHistogram, METRIC_TYPES, PLAIN, QUANTILE, SUM, WHOLE_HISTOGRAM, type Family, type Role } from './families.ts';
import { formatOpenMetricsFloat } from './float-format.ts';
import { setLabel } from './label-set.ts';
import type { MetricType, ParseOptions, PrometheusSampleRecord } from './sample-record.ts';
import { parseSampleValue, parseTimestamp } from './sample-value.ts';
import { SeriesChecks } from './series-checks.ts';
import { pairHash, seededHash } from './series-hash.ts';

/**
 * Parses the Prometheus text exposition format 0.0.4 (what the Pushgateway accepts), as strictly
 * as the Go `expfmt.TextParser` the Pushgateway uses, plus the Pushgateway's own push checks.
 * test/unit/codecs/prometheus-text-conformance.test.ts runs the upstream parsers' test tables
 * against it; src/codecs/README.md lists every deliberate difference and why.
 *
 * Why hand-written: no npm parser gives line-precise errors without echoing content. The one in
 * wide use (parse-prometheus-text-format 1.1.1) throws the offending line's text with no line
 * number (label values are user data), accepts HELP escapes Go refuses, and returns prom2json-shaped
 * families (quantiles and buckets folded into maps) that would need a second pass to flatten
 * into samples. And this runs per message on the hot path: one pass over the string with
 * `charCodeAt`, `indexOf` for line ends, no regex and no per-character allocation; a label value
 * is one `slice` unless it has escapes. Measured on the dcgm-exporter
 * fixture (30 samples, 9.6 KB; 2-core CI-class machine): 175 µs with series keys built by string
 * concatenation and a fresh string per label name; 95 µs (≈3 µs a sample, ≈5× a bare `charCodeAt`
 * loop over the same text) after reusing the previous line's label-name strings and detecting
 * duplicate series with an order-independent hash built while scanning.
 *
 * Linear in the message: each label is checked against the sample's label object (a hash
 * lookup), not against the labels before it; duplicate series are found through a seeded hash
 * with a linked chain per hash; escaped values are built as one rope; and the grouping labels the
 * key adds to every sample are bounded by `groupingBudget`. test/bench/decode-scaling-prometheus.ts
 * times 64 KB against 1 MB for hostile shapes (100k labels on a line, long grouping keys).
 *
 * Accepted like Go's parser: blank lines, blanks and tabs between tokens, comments, `# HELP` /
 * `# TYPE` (type case-insensitive, `gaugehistogram` / `gauge_histogram` included), `# HELP m` and
 * `# TYPE m` without text (comments), a trailing comma in a label set, values `NaN`, `+Inf`,
 * `-Inf` (and Go's other spellings), an optional integer millisecond timestamp. Refused like it:
 * a second HELP or TYPE for a family, a TYPE after the family's samples, `__name__` or a repeated
 * label name, escapes other than `\\`, `\"`, `\n`, a `le` / `quantile` that is not a number,
 * a negative histogram bucket or count, anything (blanks included) after the value or timestamp.
 * Also refused, as the Pushgateway's consistency check does: two samples with the same name and
 * labels. Differences, on purpose (README): the last line may lack its `\n`; samples may carry
 * timestamps; a histogram sample must be `_bucket` (with `le`), `_sum` or `_count`, a summary
 * sample without `_sum` / `_count` needs a `quantile` (Go drops such values silently); quoted
 * UTF-8 names (exposition 1.0) and hex-float values are refused; `\r\n` line ends are reported.
 *
 * This module parses the lines (comments, HELP / TYPE, samples and their label sets) and tracks
 * the families; tokens are scanned in exposition-scanner.ts, the grouping key and duplicate
 * checks are in series-checks.ts, numbers in sample-value.ts.
 */
export function parseExposition(text: string, options: ParseOptions): PrometheusSampleRecord[] {
  return new ExpositionParser(text, options).parse();
}

class ExpositionParser extends SeriesChecks {
  private readonly families = new Map<string, Family>();
  // The role resolveFamily found for the current name.
  private role: Role = PLAIN;

  parse(): PrometheusSampleRecord[] {
    if (this.groupingSize > 0) this.checkGroupingBudget();
    const text = this.text;
    const length = text.length;
    let start = 0;
    while (start < length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = length;
      this.line++;
      this.i = start;
      this.end = end;
      this.parseLine();
      start = end + 1;
    }
    return this.records;
  }

  private parseLine(): void {
    this.skipBlanks();
    if (this.i === this.end) return;
    if (this.text.charCodeAt(this.i) === HASH) this.comment();
    else this.sample();
  }

  /**
   * A comment, or a HELP / TYPE line. As Go's startComment: the keyword is the first token after
   * `#`; a HELP or TYPE line that ends after the keyword or after the name is an ordinary comment.
   */
  private comment(): void {
    const text = this.text;
    this.i++;
    this.skipBlanks();
    const wordStart = this.i;
    this.skipToken();
    const wordLength = this.i - wordStart;
    const help = wordLength === 4 && text.startsWith('HELP', wordStart);
    const type = !help && wordLength === 4 && text.startsWith('TYPE', wordStart);
    if (!help && !type) return; // an ordinary comment
    this.skipBlanks();
    if (this.i === this.end) return; // "# HELP" alone is an ordinary comment, as in Go
    const keyword = help ? 'HELP' : 'TYPE';
    const name = this.metricName();
    if (name === '' || (this.i < this.end && !isBlank(text.charCodeAt(this.i)))) throw this.error(`invalid metric name in ${keyword} line`);
    if (this.i === this.end) return; // "# HELP m": no text, a comment (Go creates no family either)
    const family = this.resolveFamily(name);
    this.skipBlanks();
    if (this.i === this.end) return; // "# TYPE m " without a type: a comment, as in Go
    if (help) this.help(family);
    else this.type(family);
  }

  private help(family: Family): void {
    const text = this.text;
    if (family.help) throw this.error(`second HELP line for ${family.name}`);
    for (let i = this.i; i < this.end; i++) {
      if (text.charCodeAt(i) !== BACKSLASH) continue;
      const next = i + 1 < this.end ? text.charCodeAt(i + 1) : -1;
      if (next !== BACKSLASH && next !== LOWER_N && next !== QUOTE) throw this.error(`invalid escape sequence in the HELP text of ${family.name} (only \\\\, \\" and \\n)`);
      i++;
    }
    family.help = true;
  }

  private type(family: Family): void {
    const text = this.text;
    this.rejectCarriageReturn();
    const typeStart = this.i;
    this.skipToken();
    const typeEnd = this.i;
    this.skipBlanks();
    if (this.i < this.end) throw this.error(`unexpected text after the type in the TYPE line of ${family.name}`);
    const metricType = METRIC_TYPES.get(text.slice(typeStart, typeEnd).toLowerCase());
    if (metricType === undefined) throw this.error(`unknown type in the TYPE line of ${family.name} (counter, gauge, histogram, gaugehistogram, summary or untyped)`);
    if (family.typed) throw this.error(`second TYPE line for ${family.name}`);
    if (family.sampled) throw this.error(`TYPE line for ${family.name} after its samples`);
    family.type = metricType;
    family.typed = true;
  }

  private sample(): void {
    const text = this.text;
    this.rejectCarriageReturn();
    const name = this.sampleName();
    if (name === '') throw this.error('invalid metric name');
    let hash = this.scannedHash;
    const family = this.resolveFamily(name);
    const role = this.role;
    if (role === WHOLE_HISTOGRAM) throw this.error(`histogram ${name} has samples ${name}_bucket, ${name}_sum and ${name}_count, not ${name}`);
    this.skipBlanks();
    const labels: Record<string, string> = {};
    if (this.i < this.end && text.charCodeAt(this.i) === OPEN_BRACE) {
      this.i++;
      hash = (hash + this.labels(name, family.type, labels)) | 0;
      this.skipBlanks();
    }
    if (this.i >= this.end) throw this.error(`no value for ${name}`);
    const valueStart = this.i;
    this.skipToken();
    const value = parseSampleValue(text, valueStart, this.i);
    if (value === undefined) throw this.error(`value of ${name} is not a number`);
    let timestamp = this.options.defaultTimestampMs;
    if (this.i < this.end) {
      // Go reads a timestamp after any blank, so a blank must be followed by one, and the
      // timestamp by the line's end: "foo 1 " and "foo 1 2 " are both refused.
      this.skipBlanks();
      if (this.i === this.end) throw this.error(`blank after the value of ${name}: a line ends with its value or its timestamp`);
      const timestampStart = this.i;
      this.skipToken();
      timestamp = parseTimestamp(text, timestampStart, this.i);
      if (timestamp === undefined) throw this.error(`timestamp of ${name} is not an integer number of milliseconds within ±2^53`);
      if (this.i < this.end) throw this.error(`unexpected text after the timestamp of ${name}`);
    }
    this.checkRole(name, family, role, labels, value);
    family.sampled = true;
    hash = (hash + this.mergeGroupingLabels(name, labels)) | 0;
    this.rejectDuplicate(hash, name, labels);
    this.records.push({ name, family: family.name, type: family.type, labels, value, timestamp_ms: timestamp });
    this.recordLines.push(this.line);
  }

  /**
   * Parses `name="value", ...}` after the `{` into `labels`; returns the sum of the name=value
   * pair hashes (order-independent). `le` of a histogram and `quantile` of a summary must be
   * numbers and are written as Prometheus writes them.
   */
  private labels(metric: string, type: MetricType, labels: Record<string, string>): number {
    const text = this.text;
    let hash = 0;
    for (let position = 0; ; position++) {
      this.skipBlanks();
      if (this.i >= this.end) throw this.error(`unterminated label set of ${metric}`);
      if (text.charCodeAt(this.i) === CLOSE_BRACE) {
        this.i++;
        return hash;
      }
      const name = this.labelName(position);
      if (name === '') throw this.error(`invalid label name in ${metric}`);
      const nameHash = this.scannedHash;
      this.skipBlanks();
      if (this.i >= this.end || text.charCodeAt(this.i) !== EQUALS) throw this.error(`expected '=' after label ${name} of ${metric}`);
      this.i++;
      this.skipBlanks();
      if (this.i >= this.end || text.charCodeAt(this.i) !== QUOTE) throw this.error(`expected '"' to open the value of label ${name} of ${metric}`);
      this.i++;
      let value = this.labelValue(name, metric);
      let valueHash = this.scannedHash;
      if (name === '__name__') throw this.error(`label name __name__ is reserved (${metric})`);
      if (Object.hasOwn(labels, name)) throw this.error(`label ${name} is given twice in ${metric}`);
      if ((name === 'le' && (type === 'histogram' || type === 'gaugehistogram')) || (name === 'quantile' && type === 'summary')) {
        const number = parseSampleValue(value, 0, value.length);
        if (number === undefined) throw this.error(`${name} label of ${metric} is not a number`);
        // Prometheus normalises only classic histograms' `le` and summaries' `quantile`.
        const normalised = type === 'gaugehistogram' ? value : formatOpenMetricsFloat(number);
        if (normalised !== value) {
          value = normalised;
          valueHash = seededHash(value, 0, value.length);
        }
      }
      setLabel(labels, name, value);
      hash = (hash + pairHash(nameHash, valueHash)) | 0;
      this.skipBlanks();
      if (this.i >= this.end) throw this.error(`unterminated label set of ${metric}`);
      const c = text.charCodeAt(this.i);
      if (c === COMMA) this.i++;
      else if (c === CLOSE_BRACE) {
        this.i++;
        return hash;
      } else throw this.error(`expected ',' or '}' after the value of label ${name} of ${metric}`);
    }
  }


  /**
   * The family a name belongs to, as Go's setOrCreateCurrentMF decides it (for samples and for
   * HELP / TYPE lines alike): a family of exactly this name; else `x_sum` / `x_count` of summary
   * `x`, `x_bucket` / `x_sum` / `x_count` of (gauge) histogram `x`; else a new untyped family.
   * Leaves the sample's role in `role`.
   */
  private resolveFamily(name: string): Family {
    const families = this.families;
    const exact = families.get(name);
    if (exact !== undefined) {
      this.role = exact.type === 'summary' ? QUANTILE : isHistogram(exact.type) ? WHOLE_HISTOGRAM : PLAIN;
      return exact;
    }
    const suffix = name.endsWith('_bucket') ? BUCKET : name.endsWith('_count') ? COUNT : name.endsWith('_sum') ? SUM : PLAIN;
    if (suffix !== PLAIN) {
      const base = families.get(name.slice(0, suffix === BUCKET ? -7 : suffix === COUNT ? -6 : -4));
      if (base !== undefined && (isHistogram(base.type) || (base.type === 'summary' && suffix !== BUCKET))) {
        this.role = suffix;
        return base;
      }
    }
    const family: Family = { name, type: 'untyped', typed: false, help: false, sampled: false };
    families.set(name, family);
    this.role = PLAIN;
    return family;
  }

  /** What the sample's role asks of it: its `le` / `quantile`, and no negative bucket or count. */
  private checkRole(name: string, family: Family, role: Role, labels: Record<string, string>, value: number): void {
    if (role === QUANTILE && !Object.hasOwn(labels, 'quantile')) throw this.error(`summary quantile sample ${name} has no quantile label`);
    if (role === BUCKET && !Object.hasOwn(labels, 'le')) throw this.error(`histogram bucket ${name} has no le label`);
    if (!isHistogram(family.type) || !(value < 0)) return;
    if (role === BUCKET) throw this.error(`negative bucket population in ${name} of histogram ${family.name}`);
    if (role === COUNT) throw this.error(`negative count in ${name} of histogram ${family.name}`);
  }
}
