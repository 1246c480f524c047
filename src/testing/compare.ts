import { isStaleMarker } from '../core/stale-marker.ts';
import type { Label, Sample } from '../core/types.ts';
import type { ExpectedDeadLetter, ExpectedSample, PipelineTest } from './config.ts';
import type { ObservedDeadLetter, TestOutput } from './run-test.ts';

/** Relative tolerance for sample values: prices and rates are sums of doubles in any order. */
const TOLERANCE = 1e-9;

/** Sample series are compared by name and full label set, written as the receiver would show them. */
export function seriesName(name: string, labels: Iterable<readonly [string, string]>): string {
  const pairs = [...labels].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `${name}{${pairs.join(',')}}`;
}

function sampleSeries(labels: readonly Label[]): string {
  const name = labels.find((l) => l.name === '__name__')?.value ?? '';
  return seriesName(
    name,
    labels.filter((l) => l.name !== '__name__').map((l) => [l.name, l.value] as const),
  );
}

/**
 * Checks a test's output against its expectations. Returns one readable line per mismatch,
 * naming the tenant, the series and the timestamp, with the expected and the actual value (and,
 * for a series that was not emitted at all, the nearest series that was).
 */
export function compareOutput(test: PipelineTest, output: TestOutput): string[] {
  const problems: string[] = [];
  for (const [tenant, expected] of Object.entries(test.expect.samples)) {
    const bySeries = indexBySeries(output.samples.get(tenant) ?? []);
    for (const sample of expected) {
      const problem = compareSample(tenant, sample, bySeries);
      if (problem) problems.push(problem);
    }
  }
  for (const tenant of test.expect.no_samples_for) {
    const emitted = output.samples.get(tenant) ?? [];
    if (emitted.length > 0) problems.push(`tenant ${tenant}: expected no samples, got ${emitted.length} (first ${sampleSeries(emitted[0]!.labels)} = ${formatValue(emitted[0]!.value)})`);
  }
  problems.push(...compareDeadLetters(test.expect.dead_letters, output.deadLetters));
  return problems;
}

function indexBySeries(samples: readonly Sample[]): Map<string, Sample[]> {
  const index = new Map<string, Sample[]>();
  for (const sample of samples) {
    const key = sampleSeries(sample.labels);
    const list = index.get(key);
    if (list) list.push(sample);
    else index.set(key, [sample]);
  }
  return index;
}

function compareSample(tenant: string, expected: ExpectedSample, bySeries: Map<string, Sample[]>): string | undefined {
  const series = seriesName(expected.name, Object.entries(expected.labels));
  const at = expected.timestamp === undefined ? 'last sample' : formatTime(expected.timestamp);
  const emitted = bySeries.get(series);
  if (!emitted) {
    const near = nearestSeries(series, expected.name, [...bySeries.keys()]);
    return `tenant ${tenant}: ${series} @ ${at}: expected ${formatValue(expected.value)}, got no such series${near ? ` (nearest emitted: ${near})` : ''}`;
  }
  const actual = expected.timestamp === undefined ? emitted[emitted.length - 1] : emitted.find((s) => s.timestampMs === expected.timestamp);
  if (!actual) {
    const times = emitted.map((s) => formatTime(s.timestampMs)).join(', ');
    return `tenant ${tenant}: ${series} @ ${at}: expected ${formatValue(expected.value)}, got no sample at that time (samples at ${times})`;
  }
  if (!sameValue(expected.value, actual.value)) {
    return `tenant ${tenant}: ${series} @ ${formatTime(actual.timestampMs)}: expected ${formatValue(expected.value)}, got ${formatValue(actual.value)}`;
  }
  return undefined;
}

function sameValue(expected: number, actual: number): boolean {
  if (isStaleMarker(actual)) return false;
  if (expected === actual) return true;
  return Math.abs(expected - actual) <= TOLERANCE * Math.max(Math.abs(expected), Math.abs(actual));
}

/** The emitted series of the same name sharing most label pairs: usually the one meant, with a label wrong. */
function nearestSeries(wanted: string, name: string, emitted: readonly string[]): string | undefined {
  const pairs = (series: string) => new Set(series.slice(series.indexOf('{') + 1, -1).split(','));
  const wantedPairs = pairs(wanted);
  let best: string | undefined;
  let bestScore = -1;
  for (const series of emitted) {
    if (!series.startsWith(`${name}{`)) continue;
    let score = 0;
    for (const pair of pairs(series)) if (wantedPairs.has(pair)) score++;
    if (score > bestScore) [best, bestScore] = [series, score];
  }
  return best;
}

function compareDeadLetters(expected: readonly ExpectedDeadLetter[], actual: readonly ObservedDeadLetter[]): string[] {
  const unmatched = [...actual];
  const missing: ExpectedDeadLetter[] = [];
  // Entries that name their input first, so an entry without one cannot take its letter.
  for (const entry of [...expected].sort((a, b) => (a.input === undefined ? 1 : 0) - (b.input === undefined ? 1 : 0))) {
    const at = unmatched.findIndex((letter) => letter.reasons.includes(entry.reason) && (entry.input === undefined || entry.input === letter.input));
    if (at < 0) missing.push(entry);
    else unmatched.splice(at, 1);
  }
  if (missing.length === 0 && unmatched.length === 0) return [];
  const describe = (letters: readonly { input?: number; reasons?: readonly string[]; reason?: string }[]) =>
    letters.length === 0 ? 'none' : letters.map((l) => `${l.reasons?.join('+') ?? l.reason}${l.input === undefined ? '' : ` (input ${l.input})`}`).join(', ');
  return [`dead letters: expected ${describe(expected)}, got ${describe(actual)}`];
}

function formatValue(value: number): string {
  return isStaleMarker(value) ? 'a stale marker' : String(value);
}

function formatTime(ms: number): string {
  return `${new Date(ms).toISOString()} (${ms})`;
}

/** Every emitted sample (per tenant, in emission order) and dead letter, one line each: what `--print` shows. */
export function describeOutput(output: TestOutput): string[] {
  const lines: string[] = [];
  for (const [tenant, samples] of output.samples) {
    for (const sample of samples) lines.push(`${tenant}: ${sampleSeries(sample.labels)} @ ${formatTime(sample.timestampMs)} = ${formatValue(sample.value)}`);
  }
  for (const letter of output.deadLetters) lines.push(`dead letter: input ${letter.input}: ${letter.reasons.join(', ')}`);
  return lines;
}
