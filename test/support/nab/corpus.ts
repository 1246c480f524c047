import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One NAB data file: its relative name (`category/file.csv`), timestamps, values and labelled windows as index pairs. */
export interface NabFile {
  readonly name: string;
  readonly timestamps: readonly string[];
  readonly values: readonly number[];
  readonly windows: readonly (readonly [number, number])[];
}

/** Reads a NAB-layout corpus: `category/*.csv` (`timestamp,value`) and `windows.json`. */
export function readNabCorpus(dir: string): NabFile[] {
  const labels = JSON.parse(readFileSync(join(dir, 'windows.json'), 'utf8')) as Record<string, [string, string][]>;
  return Object.keys(labels)
    .sort()
    .map((name) => {
      const rows = readNabCsv(join(dir, name));
      const timestamps = rows.map((r) => r[0]);
      const index = new Map(timestamps.map((t, i) => [normaliseTimestamp(t), i]));
      const windows = labels[name]!.map(([from, to]) => {
        const first = index.get(normaliseTimestamp(from));
        const last = index.get(normaliseTimestamp(to));
        if (first === undefined || last === undefined) throw new Error(`${name}: window ${from} … ${to} is not on the file's timestamps`);
        return [first, last] as const;
      });
      return { name, timestamps, values: rows.map((r) => Number(r[1])), windows };
    });
}

/** `timestamp,<column>` rows of a NAB CSV (data or results), header dropped. */
export function readNabCsv(path: string): [string, string][] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .slice(1)
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const comma = line.indexOf(',');
      return [line.slice(0, comma), line.slice(comma + 1).trim()];
    });
}

/** Windows carry microseconds (`2014-04-10 07:15:00.000000`), data files do not. */
function normaliseTimestamp(t: string): string {
  return t.replace(/\.0+$/, '');
}

export function listCategories(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'results')
    .map((d) => d.name);
}
