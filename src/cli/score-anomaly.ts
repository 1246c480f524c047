import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { AnomalyDetector, anomalyConfig, parseTimestamp, type AnomalyConfig } from '../operators/anomaly/index.ts';

/** The detector's name in NAB's result layout: OUT/<detector>/<category>/<detector>_<file>.csv. */
export const DETECTOR_NAME = 'sluice';

/**
 * Scores every `DIR/<category>/<file>.csv` (`timestamp,value`) with a fresh detector per file and
 * writes `OUT/sluice/<category>/sluice_<file>.csv` (`timestamp,value,anomaly_score`, one row per
 * input row, NAB's result layout). A value that is not a number scores 0 and is not learnt.
 * Returns the number of files written.
 */
export async function scoreAnomalyDirectory(dataDir: string, outDir: string, config: AnomalyConfig): Promise<number> {
  let written = 0;
  for (const category of await subdirectories(dataDir)) {
    if (category === 'results') continue;
    const files = (await readdir(join(dataDir, category))).filter((f) => f.endsWith('.csv')).sort();
    if (files.length === 0) continue;
    const target = join(outDir, DETECTOR_NAME, category);
    await mkdir(target, { recursive: true });
    for (const file of files) {
      const text = await readFile(join(dataDir, category, file), 'utf8');
      await writeFile(join(target, `${DETECTOR_NAME}_${file}`), scoreCsv(text, config));
      written++;
    }
  }
  return written;
}

/** One NAB CSV in, its result CSV out. */
export function scoreCsv(text: string, config: AnomalyConfig): string {
  const detector = new AnomalyDetector(config);
  const lines = text.split(/\r?\n/);
  const out = ['timestamp,value,anomaly_score'];
  for (const line of lines.slice(1)) {
    if (line.trim() === '') continue;
    const comma = line.indexOf(',');
    const timestamp = comma < 0 ? line : line.slice(0, comma);
    const raw = comma < 0 ? '' : line.slice(comma + 1).trim();
    const value = raw === '' ? Number.NaN : Number(raw);
    out.push(`${timestamp},${Number.isFinite(value) ? value : ''},${detector.update(value, parseTimestamp(timestamp)).score}`);
  }
  return `${out.join('\n')}\n`;
}

async function subdirectories(dir: string): Promise<string[]> {
  return (await readdir(dir, { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/** Reads `--config` (YAML or JSON: the detector's parameters, snake_case) and checks it. */
export async function loadAnomalyConfig(file: string | undefined): Promise<AnomalyConfig> {
  if (file === undefined) return anomalyConfig();
  return anomalyConfig((parseYaml(await readFile(file, 'utf8')) ?? {}) as object);
}

/** Adds `sluice score anomaly` (under a shared `score` command, created if no one has yet). */
export function registerScoreAnomaly(program: Command): void {
  const score = program.commands.find((c) => c.name() === 'score') ?? program.command('score').description('Score files offline, outside a stream.');
  score
    .command('anomaly')
    .description('Score NAB-layout CSVs (DIR/<category>/<file>.csv, timestamp,value) into OUT/sluice/<category>/sluice_<file>.csv.')
    .requiredOption('--data <dir>', 'directory of category folders of timestamp,value CSVs')
    .requiredOption('--out <dir>', 'directory to write results under')
    .option('--config <file>', 'YAML or JSON of detector parameters')
    .action(async (options: { data: string; out: string; config?: string }) => {
      try {
        const written = await scoreAnomalyDirectory(options.data, options.out, await loadAnomalyConfig(options.config));
        process.stdout.write(`scored ${written} files into ${join(options.out, DETECTOR_NAME)}\n`);
      } catch (error) {
        process.stderr.write(`score anomaly: ${(error as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
