import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DecodeOutcome } from '../../../src/codecs/decoder.ts';
import { createPrometheusTextDecoder, prometheusTextDecodeConfigSchema } from '../../../src/codecs/prometheus-text/index.ts';
import { fixture } from './support/golden.ts';

/**
 * The upstream parsers' own test tables (prometheus/common expfmt, the Pushgateway's parser;
 * prometheus/prometheus model/textparse, the scrape parser) and exporters' fixtures
 * (node_exporter, dcgm-exporter), run against the prometheus_text codec. See the fixture's
 * `about` and `sources`. Every case agrees with upstream, or names a deliberate deviation that
 * src/codecs/README.md explains.
 */
interface ExpectedSample {
  name: string;
  family: string;
  type: string;
  labels: Record<string, string>;
  value: number | 'NaN' | '+Inf' | '-Inf';
  timestamp_ms?: number;
}

interface ConformanceCase {
  id: string;
  source: string;
  input?: string;
  input_base64?: string;
  upstream: 'accept' | 'reject';
  samples?: ExpectedSample[];
  error_line?: number;
  deviation?: string;
  sluice?: { ok: boolean; samples?: ExpectedSample[]; error_line?: number };
}

const table = JSON.parse(readFileSync(fixture('prometheus-text/conformance/upstream-cases.json'), 'utf8')) as {
  sources: Record<string, { repo: string; file: string; commit: string }>;
  cases: ConformanceCase[];
};
const readme = readFileSync(new URL('../../../src/codecs/README.md', import.meta.url), 'utf8');
const decoder = createPrometheusTextDecoder(prometheusTextDecodeConfigSchema.parse({ codec: 'prometheus_text', grouping_key: { from: 'none' } }), {
  baseDir: '.',
  maxMessageBytes: 1 << 20,
});

const NAMED: Record<string, number> = { NaN: Number.NaN, '+Inf': Number.POSITIVE_INFINITY, '-Inf': Number.NEGATIVE_INFINITY };
const expected = (samples: readonly ExpectedSample[]) =>
  samples.map((s) => ({ ...s, value: typeof s.value === 'string' ? NAMED[s.value] : s.value, timestamp_ms: s.timestamp_ms }));

function check(outcome: DecodeOutcome, want: { ok: boolean; samples?: ExpectedSample[]; error_line?: number }): void {
  if (want.ok) {
    expect(outcome.ok ? undefined : outcome.detail).toBeUndefined();
    if (want.samples && outcome.ok) expect(outcome.records).toEqual(expected(want.samples));
    return;
  }
  expect(outcome.ok, 'rejected').toBe(false);
  if (!outcome.ok && want.error_line !== undefined) expect(outcome.detail).toMatch(new RegExp(`^prometheus_text line ${want.error_line}: `));
}

describe('prometheus_text: the upstream parsers\' test tables and exporters\' fixtures', () => {
  it('has every ported case, each from a named upstream file and commit', () => {
    expect(table.cases.length).toBe(128);
    for (const c of table.cases) expect(table.sources[c.source], c.id).toBeDefined();
    for (const source of Object.values(table.sources)) expect(source.commit).toMatch(/^[0-9a-f]{40}$|^per case/);
  });

  it.each(table.cases.filter((c) => c.deviation === undefined).map((c) => [c.id, c] as const))('%s: agrees with upstream', (_id, c) => {
    const bytes = c.input_base64 !== undefined ? Buffer.from(c.input_base64, 'base64') : Buffer.from(c.input!, 'utf8');
    check(decoder.decode(bytes, { key: null, headers: {} }), c.upstream === 'accept' ? { ok: true, samples: c.samples ?? [] } : { ok: false, error_line: c.error_line });
  });

  it.each(table.cases.filter((c) => c.deviation !== undefined).map((c) => [c.id, c] as const))('%s: differs on purpose, as documented', (_id, c) => {
    const bytes = c.input_base64 !== undefined ? Buffer.from(c.input_base64, 'base64') : Buffer.from(c.input!, 'utf8');
    check(decoder.decode(bytes, { key: null, headers: {} }), c.sluice!);
    // The difference has its entry in src/codecs/README.md (prometheus_text conformance).
    expect(readme).toContain(`\`${c.deviation}\``);
  });
});
