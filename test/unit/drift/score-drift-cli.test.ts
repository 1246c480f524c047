import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repo, runSluice } from '../../support/sluice-cli.ts';
import { describe, expect, it } from 'vitest';
import type { CliExpectation } from './fixture.ts';
import { expectScore } from './fixture.ts';

const fixtures = 'test/fixtures/drift';
const expected = (JSON.parse(readFileSync(join(repo, fixtures, 'evidently-cases.json'), 'utf8')) as { cli: Record<string, CliExpectation> }).cli;

const sluice = runSluice;

const scoreDrift = (column: string, ...extra: string[]) =>
  sluice(['score', 'drift', '--reference', `${fixtures}/cli-reference.csv`, '--current', `${fixtures}/cli-current.csv`, '--column', column, ...extra]);

// Each case starts node with tsx; on a loaded machine that alone can take seconds.
describe('sluice score drift', { timeout: 60_000 }, () => {
  for (const [column, categorical] of [['latency_ms', false], ['model', true]] as const) {
    it(`prints Evidently's scores and verdicts for the ${categorical ? 'categorical' : 'numerical'} column ${column}`, async () => {
      const result = await scoreDrift(column, '--json', ...(categorical ? ['--categorical'] : []));
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const printed = JSON.parse(result.stdout) as {
        column: string; featureType: string; referenceSize: number; currentSize: number; defaultMethod: string;
        methods: Record<string, { score: number; threshold: number; detected: boolean }>;
      };
      const want = expected[column]!;
      expect(printed).toMatchObject({
        column, featureType: categorical ? 'categorical' : 'numerical', defaultMethod: want.default_method,
        referenceSize: want.reference_size, currentSize: want.current_size,
      });
      expect(Object.keys(printed.methods).sort()).toEqual(Object.keys(want.evidently).sort());
      for (const [method, w] of Object.entries(want.evidently)) {
        expectScore(printed.methods[method]!.score, w.score, method);
        expect(printed.methods[method]).toMatchObject({ detected: w.detected, threshold: w.threshold });
      }
    });
  }

  it('prints a readable table without --json', async () => {
    const result = await scoreDrift('model', '--categorical');
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[0]).toBe('model (categorical, reference 300, current 250), default method chisquare');
    expect(result.stdout).toMatch(/chi-square p_value\s+0\s+threshold 0\.05 {2}drift detected/);
  });

  it('fails with the file and column when the column is missing or not numerical', async () => {
    const [missing, notNumbers] = await Promise.all([scoreDrift('nope', '--json'), scoreDrift('model', '--json')]);
    expect(missing).toMatchObject({ code: 1, stdout: '', stderr: `sluice score drift: ${fixtures}/cli-reference.csv: no column named nope in the header row\n` });
    expect(notNumbers).toMatchObject({ code: 1, stdout: '', stderr: `sluice score drift: ${fixtures}/cli-reference.csv: row 2: column model is not a finite number\n` });
  });
});
