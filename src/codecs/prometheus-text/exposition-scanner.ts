import { BACKSLASH, CARRIAGE_RETURN, isBlank, isLabelNameChar, isLabelNameStart, isMetricNameChar, isMetricNameStart, LOWER_N, NEWLINE, QUOTE } from './characters.ts';
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
   * The label value after its opening quote: one slice unless it contains escapes (then
   * escapedLabelValue). Leaves the seeded hash of the unescaped value in `scannedHash`.
   */
  protected labelValue(label: string, metric: string): string {
    const text = this.text;
    const start = this.i;
    let hash = HASH_START;
    for (let i = start; i < this.end; i++) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        this.i = i + 1;
        this.scannedHash = hash;
        return text.slice(start, i);
      }
      if (c === BACKSLASH) return this.escapedLabelValue(i, hash, label, metric);
      hash = Math.imul(hash ^ c, FNV_PRIME);
    }
    throw this.error(`unterminated value of label ${label} of ${metric}`);
  }

  /**
   * The rest of a label value from its first escape at `from` (`hash` covers what precedes it),
   * unescaped into UTF-16 code units and made a string once at the end: linear in the value.
   * Appending the pieces to a string instead built a rope of three strings per escape, which the
   * collector then copied and marked: CPU per byte of a value of escapes grew from 5.6 ns at
   * 64 KB to 31.5 ns at 4 MB (test/bench/decode-scaling.ts read 68.8× for 16× the bytes).
   */
  private escapedLabelValue(from: number, hash: number, label: string, metric: string): string {
    const text = this.text;
    const start = this.i;
    // The unescaped value is shorter than its escaped form, which ends within the line: the rest of the line is room enough.
    const units = codeUnits(this.end - start);
    let n = 0;
    for (let k = start; k < from; k++) units[n++] = text.charCodeAt(k);
    for (let i = from; i < this.end; i++) {
      let c = text.charCodeAt(i);
      if (c === QUOTE) {
        this.i = i + 1;
        this.scannedHash = hash;
        return stringOf(units, n);
      }
      if (c === BACKSLASH) {
        const next = i + 1 < this.end ? text.charCodeAt(i + 1) : -1;
        c = next === BACKSLASH || next === QUOTE ? next : next === LOWER_N ? NEWLINE : -1;
        if (c < 0) throw this.error(`invalid escape sequence in the value of label ${label} of ${metric} (only \\\\, \\" and \\n)`);
        i++;
      }
      hash = Math.imul(hash ^ c, FNV_PRIME);
      units[n++] = c;
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

/** Code units a value up to this long is unescaped into, kept for the next one; longer ones get their own. */
const SHARED_UNITS = 64 * 1024;
let sharedUnits: Uint16Array | undefined;

/** Room for `length` UTF-16 code units. */
function codeUnits(length: number): Uint16Array {
  if (length > SHARED_UNITS) return new Uint16Array(length);
  return (sharedUnits ??= new Uint16Array(SHARED_UNITS));
}

/** `String.fromCharCode` takes its code units as arguments: a chunk at a time stays far below the engine's argument limit. */
const CHUNK = 8 * 1024;

/** The string of units[0, n). */
function stringOf(units: Uint16Array, n: number): string {
  if (n <= CHUNK) return String.fromCharCode.apply(null, units.subarray(0, n) as unknown as number[]);
  let out = '';
  for (let k = 0; k < n; k += CHUNK) out += String.fromCharCode.apply(null, units.subarray(k, Math.min(n, k + CHUNK)) as unknown as number[]);
  return out;
}
