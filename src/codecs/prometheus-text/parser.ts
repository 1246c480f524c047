import { formatOpenMetricsFloat } from './float-format.ts';
import type { GroupingLabels } from './grouping-key.ts';
import { FNV_PRIME, HASH_START, seededHash } from './series-hash.ts';

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'gaugehistogram' | 'summary' | 'untyped';

/**
 * One sample of the exposition. `name` is the sample's own name (`x_bucket`, `x_sum`, ...),
 * `family` the metric family it belongs to (`x`), `type` the family's TYPE (`untyped` without one).
 * `labels` are the sample's labels with the grouping labels merged in; `le` of a histogram and
 * `quantile` of a summary are written as Prometheus writes them (`"1"` → `"1.0"`, see
 * float-format.ts). `timestamp_ms` is the sample's own timestamp, else the message's push time
 * when configured, else undefined.
 */
export type PrometheusSampleRecord = {
  name: string;
  family: string;
  type: MetricType;
  labels: Record<string, string>;
  value: number;
  timestamp_ms: number | undefined;
};

/**
 * A line the parser refuses; `message` names metrics and labels but never label values or text.
 * `oversized` when the message is well-formed but the grouping key would blow it up beyond its bound.
 */
export class ExpositionError extends Error {
  constructor(
    readonly line: number,
    message: string,
    readonly reason: 'malformed' | 'oversized' = 'malformed',
  ) {
    super(message);
  }
}

export interface ParseOptions {
  readonly grouping: GroupingLabels;
  readonly onLabelConflict: 'reject' | 'override';
  readonly defaultTimestampMs: number | undefined;
  /**
   * Most characters of grouping labels (name + value, summed over the labels and over the
   * samples) the grouping key may add to a message: the key is applied to every sample, so
   * without a bound a small key times many samples is quadratic in the message's size.
   */
  readonly groupingBudget: number;
}

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
 */
export function parseExposition(text: string, options: ParseOptions): PrometheusSampleRecord[] {
  return new ExpositionParser(text, options).parse();
}

interface Family {
  readonly name: string;
  type: MetricType;
  typed: boolean;
  help: boolean;
  sampled: boolean;
}

// What a sample is to its family (Go's setOrCreateCurrentMF decides it from the name alone).
const PLAIN = 0;
const QUANTILE = 1; // a summary's own name: needs `quantile`
const BUCKET = 2;
const COUNT = 3;
const SUM = 4;
const WHOLE_HISTOGRAM = 5; // a histogram's bare name: not a sample of it
type Role = typeof PLAIN | typeof QUANTILE | typeof BUCKET | typeof COUNT | typeof SUM | typeof WHOLE_HISTOGRAM;

class ExpositionParser {
  private i = 0;
  private end = 0;
  private line = 0;
  private readonly families = new Map<string, Family>();
  /** Series hash → index of the newest record with that hash; `earlierWithHash[index]` chains to older ones (-1 ends). */
  private readonly newestWithHash = new Map<number, number>();
  private readonly earlierWithHash: number[] = [];
  private readonly recordLines: number[] = [];
  private readonly records: PrometheusSampleRecord[] = [];
  // The role resolveFamily found for the current name.
  private role: Role = PLAIN;
  // The previous sample's names: exporters repeat them line after line, and reusing the string
  // (instead of slicing a new one) saves the copy and the re-hashing when it becomes a property key.
  private previousMetric = '';
  private previousMetricHash = 0;
  private readonly previousNames: string[] = [];
  private readonly previousNameHashes: number[] = [];
  // Out-values of the scanners, to avoid a tuple per call.
  private scannedHash = 0;

  private readonly groupingNameHashes: number[];
  private readonly groupingPairHashes: number[];
  private readonly groupingSize: number;
  private groupingSpent = 0;

  constructor(
    private readonly text: string,
    private readonly options: ParseOptions,
  ) {
    const { names, values } = options.grouping;
    this.groupingNameHashes = names.map((name) => seededHash(name, 0, name.length));
    this.groupingPairHashes = names.map((_, g) => pairHash(this.groupingNameHashes[g]!, seededHash(values[g]!, 0, values[g]!.length)));
    let size = 0;
    for (let g = 0; g < names.length; g++) size += names[g]!.length + values[g]!.length;
    this.groupingSize = size;
  }

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

  /**
   * Refuses a message whose sample lines, each given the grouping labels, would overspend the
   * budget, before parsing any of them: one cheap pass (a line is a sample unless blank or a
   * comment), so a long key on many samples costs a scan, not the label objects it would build
   * (1,000 grouping labels on 10k samples: refused in one pass instead of after ~500 samples).
   */
  private checkGroupingBudget(): void {
    const text = this.text;
    const length = text.length;
    const allowed = Math.floor(this.options.groupingBudget / this.groupingSize);
    let samples = 0;
    let line = 0;
    for (let start = 0; start < length; ) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = length;
      line++;
      let i = start;
      while (i < end && isBlank(text.charCodeAt(i))) i++;
      if (i < end && text.charCodeAt(i) !== HASH && ++samples > allowed) throw this.overBudget(line);
      start = end + 1;
    }
  }

  private overBudget(line: number): ExpositionError {
    return new ExpositionError(
      line,
      `the grouping key's ${this.options.grouping.names.length} labels on every sample add more than ${this.options.groupingBudget} characters (source.max_message_bytes); send fewer samples per message or a shorter key`,
      'oversized',
    );
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
   * The label value after its opening quote; one slice unless it contains escapes. Leaves the
   * seeded hash of the unescaped value in `scannedHash`. With escapes, pieces are appended to a
   * string: V8 builds a rope and flattens it once, linear in the value (measured on 500k escapes:
   * ~1.8× faster than collecting the pieces in an array and joining them).
   */
  private labelValue(label: string, metric: string): string {
    const text = this.text;
    let start = this.i;
    let unescaped: string | undefined;
    let hash = HASH_START;
    for (let i = start; i < this.end; i++) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        this.i = i + 1;
        this.scannedHash = hash;
        return unescaped === undefined ? text.slice(start, i) : unescaped + text.slice(start, i);
      }
      if (c !== BACKSLASH) {
        hash = Math.imul(hash ^ c, FNV_PRIME);
        continue;
      }
      const next = i + 1 < this.end ? text.charCodeAt(i + 1) : -1;
      const replacement = next === BACKSLASH ? '\\' : next === QUOTE ? '"' : next === LOWER_N ? '\n' : undefined;
      if (replacement === undefined) throw this.error(`invalid escape sequence in the value of label ${label} of ${metric} (only \\\\, \\" and \\n)`);
      hash = Math.imul(hash ^ replacement.charCodeAt(0), FNV_PRIME);
      unescaped = (unescaped ?? '') + text.slice(start, i) + replacement;
      i++;
      start = i + 1;
    }
    throw this.error(`unterminated value of label ${label} of ${metric}`);
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

  /**
   * Applies the grouping key: adds its labels, and refuses or overrides a different value.
   * Returns the hash to add to the series hash. Spends the grouping budget.
   */
  private mergeGroupingLabels(metric: string, labels: Record<string, string>): number {
    const { names: groupNames, values: groupValues } = this.options.grouping;
    if (groupNames.length === 0) return 0;
    // checkGroupingBudget counted the sample lines up front; this is the exact account.
    this.groupingSpent += this.groupingSize;
    if (this.groupingSpent > this.options.groupingBudget) throw this.overBudget(this.line);
    let hash = 0;
    for (let g = 0; g < groupNames.length; g++) {
      const name = groupNames[g]!;
      const value = groupValues[g]!;
      if (!Object.hasOwn(labels, name)) {
        setLabel(labels, name, value);
        hash = (hash + this.groupingPairHashes[g]!) | 0;
        continue;
      }
      const own = labels[name]!;
      if (own === value) continue;
      if (this.options.onLabelConflict === 'reject') throw this.error(`label ${name} of ${metric} differs from the grouping key's ${name}`);
      setLabel(labels, name, value);
      hash = (hash - pairHash(this.groupingNameHashes[g]!, seededHash(own, 0, own.length)) + this.groupingPairHashes[g]!) | 0;
    }
    return hash;
  }

  /**
   * Two samples with one name and label set would be two values for one series at one time. The
   * series hash (name hash plus the sum of the name=value pair hashes: order-independent, built
   * while scanning, seeded per process so collisions cannot be precomputed) finds candidates; a
   * full comparison confirms, so a collision cannot reject.
   */
  private rejectDuplicate(hash: number, name: string, labels: Record<string, string>): void {
    const index = this.records.length;
    const newest = this.newestWithHash.get(hash);
    for (let candidate = newest ?? -1; candidate >= 0; candidate = this.earlierWithHash[candidate]!) {
      const record = this.records[candidate]!;
      if (record.name === name && sameLabels(record.labels, labels)) {
        throw this.error(`duplicate sample: ${name} with the same labels as on line ${this.recordLines[candidate]!}`);
      }
    }
    this.earlierWithHash.push(newest ?? -1);
    this.newestWithHash.set(hash, index);
  }

  /** The metric name of a sample line, reusing the previous line's string when it repeats. */
  private sampleName(): string {
    const previous = this.previousMetric;
    if (previous !== '' && this.text.startsWith(previous, this.i) && !this.continuesName(this.i + previous.length, isMetricNameChar)) {
      this.i += previous.length;
      this.scannedHash = this.previousMetricHash;
      return previous;
    }
    const name = this.metricName();
    this.previousMetric = name;
    this.previousMetricHash = this.scannedHash;
    return name;
  }

  /** Scans a metric name; leaves its seeded hash in `scannedHash`. */
  private metricName(): string {
    const start = this.i;
    let i = start;
    if (i < this.end && isMetricNameStart(this.text.charCodeAt(i))) {
      i++;
      while (i < this.end && isMetricNameChar(this.text.charCodeAt(i))) i++;
    }
    this.i = i;
    this.scannedHash = seededHash(this.text, start, i);
    return this.text.slice(start, i);
  }

  /** Scans the `position`-th label name, reusing the previous sample's name there when it repeats. */
  private labelName(position: number): string {
    const text = this.text;
    const previous = this.previousNames[position];
    if (previous !== undefined && text.startsWith(previous, this.i) && !this.continuesName(this.i + previous.length, isLabelNameChar)) {
      this.i += previous.length;
      this.scannedHash = this.previousNameHashes[position]!;
      return previous;
    }
    const start = this.i;
    let i = start;
    if (i < this.end && isLabelNameStart(text.charCodeAt(i))) {
      i++;
      while (i < this.end && isLabelNameChar(text.charCodeAt(i))) i++;
    }
    this.i = i;
    const hash = seededHash(text, start, i);
    this.scannedHash = hash;
    const name = text.slice(start, i);
    this.previousNames[position] = name;
    this.previousNameHashes[position] = hash;
    return name;
  }

  private continuesName(i: number, isNameChar: (c: number) => boolean): boolean {
    return i < this.end && isNameChar(this.text.charCodeAt(i));
  }

  private skipBlanks(): void {
    while (this.i < this.end && isBlank(this.text.charCodeAt(this.i))) this.i++;
  }

  private skipToken(): void {
    while (this.i < this.end && !isBlank(this.text.charCodeAt(this.i))) this.i++;
  }

  private rejectCarriageReturn(): void {
    if (this.text.charCodeAt(this.end - 1) === CARRIAGE_RETURN) throw this.error('line ends in \\r\\n; the format requires \\n line ends');
  }

  private error(message: string): ExpositionError {
    return new ExpositionError(this.line, message);
  }
}

const isHistogram = (type: MetricType): boolean => type === 'histogram' || type === 'gaugehistogram';

/**
 * A sample value as Go's `strconv.ParseFloat` reads it (decimal, `NaN`, `Inf`, `+Inf`, `-Inf`,
 * `Infinity`, any case), or undefined. Out-of-range decimals (1e400) are refused, as Go does.
 */
export function parseSampleValue(text: string, start: number, end: number): number | undefined {
  const length = end - start;
  if (length === 0) return undefined;
  let i = start;
  let c = text.charCodeAt(i);
  const sign = c === PLUS || c === MINUS;
  if (sign) i++;
  c = text.charCodeAt(i);
  if (c === 0x4e || c === 0x6e || c === 0x49 || c === 0x69) {
    // N n I i: one of the named values
    if (end - i > 8) return undefined;
    const word = text.slice(i, end).toLowerCase();
    if (word === 'nan' && !sign) return Number.NaN;
    if (word === 'inf' || word === 'infinity') return text.charCodeAt(start) === MINUS ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
    return undefined;
  }
  let digits = 0;
  while (i < end && isDigit(text.charCodeAt(i))) {
    i++;
    digits++;
  }
  if (i < end && text.charCodeAt(i) === DOT) {
    i++;
    while (i < end && isDigit(text.charCodeAt(i))) {
      i++;
      digits++;
    }
  }
  if (digits === 0) return undefined;
  if (i < end && (text.charCodeAt(i) === 0x65 || text.charCodeAt(i) === 0x45)) {
    i++;
    if (i < end && (text.charCodeAt(i) === PLUS || text.charCodeAt(i) === MINUS)) i++;
    const exponentStart = i;
    while (i < end && isDigit(text.charCodeAt(i))) i++;
    if (i === exponentStart) return undefined;
  }
  if (i !== end) return undefined;
  const value = Number(text.slice(start, end));
  return Number.isFinite(value) ? value : undefined;
}

/** An integer timestamp in ms (Go: `strconv.ParseInt`), within JavaScript's exact range. */
function parseTimestamp(text: string, start: number, end: number): number | undefined {
  let i = start;
  const c = text.charCodeAt(i);
  if (c === PLUS || c === MINUS) i++;
  if (i === end) return undefined;
  while (i < end - 1 && text.charCodeAt(i) === 0x30) i++; // leading zeros do not count towards the length
  if (end - i > 16) return undefined;
  for (; i < end; i++) if (!isDigit(text.charCodeAt(i))) return undefined;
  const value = Number(text.slice(start, end));
  return Number.isSafeInteger(value) ? value : undefined;
}

/** Mixes a name hash and a value hash into one pair hash (murmur3's finalizer), so sums spread well. */
function pairHash(nameHash: number, valueHash: number): number {
  let h = nameHash ^ Math.imul(valueHash, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  let count = 0;
  for (const key in a) {
    if (!Object.hasOwn(b, key) || a[key] !== b[key]) return false;
    count++;
  }
  for (const _ in b) count--;
  return count === 0;
}

function setLabel(labels: Record<string, string>, name: string, value: string): void {
  // `__proto__` is a valid label name; assigning it would replace the object's prototype.
  if (name === '__proto__') Object.defineProperty(labels, name, { value, enumerable: true, writable: true, configurable: true });
  else labels[name] = value;
}

const METRIC_TYPES: ReadonlyMap<string, MetricType> = new Map([
  ['counter', 'counter'],
  ['gauge', 'gauge'],
  ['histogram', 'histogram'],
  ['gaugehistogram', 'gaugehistogram'],
  ['gauge_histogram', 'gaugehistogram'],
  ['summary', 'summary'],
  ['untyped', 'untyped'],
]);

const isBlank = (c: number): boolean => c === SPACE || c === TAB;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isLetterOrUnderscore = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
const isLabelNameStart = isLetterOrUnderscore;
const isLabelNameChar = (c: number): boolean => isLetterOrUnderscore(c) || isDigit(c);
const isMetricNameStart = (c: number): boolean => isLetterOrUnderscore(c) || c === COLON;
const isMetricNameChar = (c: number): boolean => isLabelNameChar(c) || c === COLON;

const SPACE = 0x20;
const TAB = 0x09;
const HASH = 0x23;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const EQUALS = 0x3d;
const QUOTE = 0x22;
const COMMA = 0x2c;
const BACKSLASH = 0x5c;
const LOWER_N = 0x6e;
const CARRIAGE_RETURN = 0x0d;
const PLUS = 0x2b;
const MINUS = 0x2d;
const DOT = 0x2e;
const COLON = 0x3a;
