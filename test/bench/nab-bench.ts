/**
 * NAB benchmark of the anomaly detector: runs it over a NAB-layout directory (default
 * ../shared/data/nab relative to the repository, or $NAB_DIR; `--config FILE` for parameters) and
 * prints, per scoring profile, the normalised score at the best single threshold, windows detected
 * and false positives, next to numenta HTM's figure from the directory's results/numenta.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { AnomalyDetector, parseTimestamp, type AnomalyConfigInput } from '../../src/operators/anomaly/index.ts';
import { readNabCorpus, readNabCsv } from '../support/nab/corpus.ts';
import { bestThreshold, PROFILES, weighFile } from '../support/nab/scorer.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
// ../shared/data/nab from the main checkout; worktrees sit one level deeper.
const candidates = process.env.NAB_DIR ? [process.env.NAB_DIR] : [join(repo, '..', 'shared', 'data', 'nab'), join(repo, '..', '..', 'shared', 'data', 'nab')];
const found = candidates.find((d) => existsSync(join(d, 'windows.json')));
if (found === undefined) {
  // NAB's data is not part of the repository (licence, size): say where it was looked for.
  console.log(`nab-bench: no NAB corpus (windows.json) at ${candidates.join(' or ')}; set NAB_DIR to run it`);
  process.exit(0);
}
const dir = resolve(found);
const configAt = process.argv.indexOf('--config');
const config = (configAt > 0 ? parseYaml(readFileSync(process.argv[configAt + 1]!, 'utf8')) : {}) as AnomalyConfigInput;

const corpus = readNabCorpus(dir);
const started = performance.now();
let points = 0;
const ours = corpus.map((file) => {
  const detector = new AnomalyDetector(config);
  points += file.values.length;
  return file.values.map((v, i) => detector.update(v, parseTimestamp(file.timestamps[i]!)).score);
});
const elapsed = performance.now() - started;
const htmDir = join(dir, 'results', 'numenta');
const htm = existsSync(htmDir)
  ? corpus.map((file) => {
      const [category, name] = file.name.split('/');
      return readNabCsv(join(htmDir, category!, `numenta_${name}`)).map((r) => Number(r[1]));
    })
  : undefined;

console.log(`NAB: ${corpus.length} files, ${points} points from ${dir}; detector ${(elapsed / 1000).toFixed(2)} s (${((elapsed * 1e6) / points).toFixed(0)} ns/point)`);
console.log(`configured threshold ${new AnomalyDetector(config).config.threshold}`);
for (const [profileName, profile] of Object.entries(PROFILES)) {
  const line = (who: string, scores: number[][]) => {
    const r = bestThreshold(
      corpus.map((f, i) => weighFile(scores[i]!, f.windows, profile)),
      profile,
    );
    return `${who.padEnd(8)} ${r.normalised.toFixed(2).padStart(6)}  windows ${r.windowsDetected}/${r.windows}  FP ${String(r.falsePositives).padStart(3)}  threshold ${r.threshold.toFixed(4)}`;
  };
  console.log(`${profileName}:`);
  console.log(`  ${line('sluice', ours)}`);
  if (htm) console.log(`  ${line('HTM', htm)}`);
}
