import { BACKSLASH, CARRIAGE_RETURN, isBlank, isLabelNameChar, isLabelNameStart, isMetricNameChar, isMetricNameStart, LOWER_N, QUOTE } from './characters.ts';
import { ExpositionError } from './sample-record.ts';
import { FNV_PRIME, HASH_START, seededHash } from './series-hash.ts';

/**
 * The exposition parser's tokens: a cursor over the current line (`i` up to `end`), metric and
 * label names (reusing the previous sample's strings when they repeat), label values with their
 * escapes, blanks, and the line-numbered error. Each scanner leaves the seeded hash of what it
 * read in `scannedHash`, so the series hash is built while scanning. See parser.ts for why the
 * format is parsed by hand, and the measurements behind the name reuse.
 */
export abstract class ExpositionScanner {
  protected i = 0;
  protected end = 0;
  protected line = 0;
  // The previous sample's names: exporters repeat them line after line, and reusing the string
  // (instead of slicing a new one) saves the copy and the re-hashing when it becomes a property key.
  private previousMetric = '';
  private previousMetricHash = 0;
  private readonly previousNames: string[] = [];
  private readonly previousNameHashes: number[] = [];
  // Out-values of the scanners, to avoid a tuple per call.
  protected scannedHash = 0;

  constructor(protected readonly text: string) {}

  /**
   * The label value after its opening quote; one slice unless it contains escapes. Leaves the
   * seeded hash of the unescaped value in `scannedHash`. With escapes, pieces are appended to a
   * string: V8 builds a rope and flattens it once, linear in the value (measured on 500k escapes:
   * ~1.8× faster than collecting the pieces in an array and joining them).
   */
  protected labelValue(label: string, metric: string): string {
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

  /** The metric name of a sample line, reusing the previous line's string when it repeats. */
  protected sampleName(): string {
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
  protected metricName(): string {
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
  protected labelName(position: number): string {
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

  protected skipBlanks(): void {
    while (this.i < this.end && isBlank(this.text.charCodeAt(this.i))) this.i++;
  }

  protected skipToken(): void {
    while (this.i < this.end && !isBlank(this.text.charCodeAt(this.i))) this.i++;
  }

  protected rejectCarriageReturn(): void {
    if (this.text.charCodeAt(this.end - 1) === CARRIAGE_RETURN) throw this.error('line ends in \\r\\n; the format requires \\n line ends');
  }

  protected error(message: string): ExpositionError {
    return new ExpositionError(this.line, message);
  }
}
