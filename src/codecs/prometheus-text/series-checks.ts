import { HASH, isBlank } from './characters.ts';
import { ExpositionScanner } from './exposition-scanner.ts';
import { sameLabels, setLabel } from './label-set.ts';
import { ExpositionError, type ParseOptions, type PrometheusSampleRecord } from './sample-record.ts';
import { pairHash, seededHash } from './series-hash.ts';

/**
 * The Pushgateway's push checks on the parsed samples, and the records they keep: the grouping
 * key applied to every sample within `groupingBudget` (counted up front, then exactly), and no
 * two samples of one series (a seeded, order-independent series hash finds candidates, a full
 * comparison confirms).
 */
export abstract class SeriesChecks extends ExpositionScanner {
  /** Series hash → index of the newest record with that hash; `earlierWithHash[index]` chains to older ones (-1 ends). */
  private readonly newestWithHash = new Map<number, number>();
  private readonly earlierWithHash: number[] = [];
  protected readonly recordLines: number[] = [];
  protected readonly records: PrometheusSampleRecord[] = [];

  private readonly groupingNameHashes: number[];
  private readonly groupingPairHashes: number[];
  protected readonly groupingSize: number;
  private groupingSpent = 0;

  constructor(
    text: string,
    protected readonly options: ParseOptions,
  ) {
    super(text);
    const { names, values } = options.grouping;
    this.groupingNameHashes = names.map((name) => seededHash(name, 0, name.length));
    this.groupingPairHashes = names.map((_, g) => pairHash(this.groupingNameHashes[g]!, seededHash(values[g]!, 0, values[g]!.length)));
    let size = 0;
    for (let g = 0; g < names.length; g++) size += names[g]!.length + values[g]!.length;
    this.groupingSize = size;
  }

  /**
   * Refuses a message whose sample lines, each given the grouping labels, would overspend the
   * budget, before parsing any of them: one cheap pass (a line is a sample unless blank or a
   * comment), so a long key on many samples costs a scan, not the label objects it would build
   * (1,000 grouping labels on 10k samples: refused in one pass instead of after ~500 samples).
   */
  protected checkGroupingBudget(): void {
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

  /**
   * Applies the grouping key: adds its labels, and refuses or overrides a different value.
   * Returns the hash to add to the series hash. Spends the grouping budget.
   */
  protected mergeGroupingLabels(metric: string, labels: Record<string, string>): number {
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
  protected rejectDuplicate(hash: number, name: string, labels: Record<string, string>): void {
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
}
