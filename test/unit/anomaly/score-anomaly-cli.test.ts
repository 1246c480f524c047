import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { repo, runSluice } from '../../support/sluice-cli.ts';
import { AnomalyDetector, parseTimestamp } from '../../../src/operators/anomaly/index.ts';

const made: string[] = [];

const sluice = runSluice;

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-score-anomaly-'));
  made.push(dir);
  return dir;
}

/** A tiny NAB-layout corpus: two categories, hourly points, a jump near the end of one file. */
function writeCorpus(dir: string): Record<string, string[]> {
  const hour = (month: number, i: number) => `2024-${String(month).padStart(2, '0')}-${String(1 + Math.floor(i / 24)).padStart(2, '0')} ${String(i % 24).padStart(2, '0')}:00:00`;
  const files: Record<string, string[]> = {
    'alpha/flat.csv': Array.from({ length: 300 }, (_, i) => `${hour(1, i)},${10 + (i % 3)}`),
    'beta/jump.csv': Array.from({ length: 260 }, (_, i) => `${hour(2, i)},${i === 250 ? 12 : 5 + (i % 2)}`),
  };
  for (const [name, rows] of Object.entries(files)) {
    mkdirSync(join(dir, name.split('/')[0]!), { recursive: true });
    writeFileSync(join(dir, name), ['timestamp,value', ...rows].join('\n') + '\n');
  }
  mkdirSync(join(dir, 'empty'));
  return files;
}

afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

// Each case starts the CLI (tsx compiles on start): allow for a loaded machine.
describe('sluice score anomaly', { timeout: 60_000 }, () => {
  it('writes OUT/sluice/<category>/sluice_<file>.csv, one row per input row, scores equal to the detector', async () => {
    const data = tempDir();
    const out = tempDir();
    const files = writeCorpus(data);
    const result = await sluice(['score', 'anomaly', '--data', data, '--out', out]);
    expect(result).toMatchObject({ code: 0, stdout: `scored 2 files into ${join(out, 'sluice')}\n` });
    expect(readdirSync(join(out, 'sluice')).sort()).toEqual(['alpha', 'beta']);
    for (const [name, rows] of Object.entries(files)) {
      const [category, file] = name.split('/');
      const lines = readFileSync(join(out, 'sluice', category!, `sluice_${file}`), 'utf8').trimEnd().split('\n');
      expect(lines[0]).toBe('timestamp,value,anomaly_score');
      expect(lines).toHaveLength(rows.length + 1);
      const detector = new AnomalyDetector();
      lines.slice(1).forEach((line, i) => {
        const [timestamp, value] = rows[i]!.split(',');
        expect(line).toBe(`${timestamp},${Number(value)},${detector.update(Number(value), parseTimestamp(timestamp!)).score}`);
      });
    }
    const jump = readFileSync(join(out, 'sluice', 'beta', 'sluice_jump.csv'), 'utf8').split('\n');
    expect(jump[251]).toMatch(/,12,1$/);
  });

  it('applies --config and rejects an unknown parameter', async () => {
    const data = tempDir();
    const out = tempDir();
    writeCorpus(data);
    const config = join(tempDir(), 'detector.yaml');
    writeFileSync(config, 'range_tolerance: 10\n');
    expect((await sluice(['score', 'anomaly', '--data', data, '--out', out, '--config', config])).code).toBe(0);
    const jump = readFileSync(join(out, 'sluice', 'beta', 'sluice_jump.csv'), 'utf8').split('\n');
    expect(jump[251]).not.toMatch(/,12,1$/);
    writeFileSync(config, 'tresh: 0.5\n');
    const bad = await sluice(['score', 'anomaly', '--data', data, '--out', out, '--config', config]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^score anomaly: .*tresh/s);
  });
});
