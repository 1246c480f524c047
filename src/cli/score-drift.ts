import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { DRIFT_METHOD_SPECS, DriftWindow, scoreDriftAll } from '../operators/drift/index.ts';
import type { DriftReport, FeatureType } from '../operators/drift/index.ts';

/**
 * `sluice score drift`: Evidently's drift scores for one column of two CSV files, outside a stream,
 * so a reference and threshold can be chosen and checked. Empty cells are missing values and are
 * skipped, as pandas reads them as NaN and Evidently drops them.
 */
export function registerScoreDriftCommand(program: Command): void {
  // `score` is shared with the other offline scorers; whichever registers first creates it.
  const score = program.commands.find((c) => c.name() === 'score')
    ?? program.command('score').description('Score data offline, outside a stream.');
  score
    .command('drift')
    .description("Every drift method's score and verdict for one column (Evidently 0.7.23's definitions).")
    .requiredOption('--reference <file>', 'reference CSV file (with a header row)')
    .requiredOption('--current <file>', 'current CSV file (with a header row)')
    .requiredOption('--column <name>', 'column to compare')
    .option('--categorical', 'treat the column as categorical (default: numerical)', false)
    .option('--json', 'print JSON', false)
    .action(async (options: { reference: string; current: string; column: string; categorical: boolean; json: boolean }) => {
      process.exitCode = await scoreDriftCommand(options);
    });
}

export async function scoreDriftCommand(options: { reference: string; current: string; column: string; categorical: boolean; json: boolean }): Promise<number> {
  const featureType: FeatureType = options.categorical ? 'categorical' : 'numerical';
  try {
    const referenceCells = await readColumn(options.reference, options.column);
    const currentCells = await readColumn(options.current, options.column);
    // pandas types an all-numeric column as numbers even when it is categorical: 1 and 1.0 are one value.
    const numericLooking = referenceCells.every(isNumber) && currentCells.every(isNumber);
    const reference = windowOf(referenceCells, featureType, numericLooking, options.reference, options.column);
    const current = windowOf(currentCells, featureType, numericLooking, options.current, options.column);
    const report = scoreDriftAll(reference, current);
    process.stdout.write(options.json ? `${JSON.stringify(toJson(options.column, report), null, 2)}\n` : toText(options.column, report));
    return 0;
  } catch (error) {
    process.stderr.write(`sluice score drift: ${(error as Error).message}\n`);
    return 1;
  }
}

const isNumber = (cell: string): boolean => cell.trim() !== '' && Number.isFinite(Number(cell));

function windowOf(cells: readonly string[], featureType: FeatureType, numericLooking: boolean, file: string, column: string): DriftWindow {
  const window = new DriftWindow({ featureType, maxExactValues: Number.MAX_SAFE_INTEGER, maxCategories: Number.MAX_SAFE_INTEGER });
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i]!;
    if (featureType === 'categorical') window.add(numericLooking ? String(Number(cell)) : cell);
    else if (isNumber(cell)) window.add(Number(cell));
    else throw new Error(`${file}: row ${i + 2}: column ${column} is not a finite number`);
  }
  if (window.size === 0) throw new Error(`${file}: column ${column} has no values`);
  return window;
}

/** The non-empty cells of one column; a small RFC 4180 reader (quoted fields, doubled quotes). */
async function readColumn(file: string, column: string): Promise<string[]> {
  const rows = parseCsv(await readFile(file, 'utf8'));
  const header = rows.shift();
  const index = header?.indexOf(column) ?? -1;
  if (index < 0) throw new Error(`${file}: no column named ${column} in the header row`);
  const cells: string[] = [];
  for (const row of rows) {
    const cell = row[index] ?? '';
    if (cell !== '') cells.push(cell);
  }
  return cells;
}

export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  row.push(field);
  if (row.length > 1 || row[0] !== '') rows.push(row);
  return rows;
}

/** JSON has no NaN: a score that cannot be computed (e.g. chi-square with one category) is null. */
function toJson(column: string, report: DriftReport): unknown {
  return {
    column,
    featureType: report.featureType,
    referenceSize: report.referenceSize,
    currentSize: report.currentSize,
    defaultMethod: report.defaultMethod,
    methods: Object.fromEntries(report.results.map((r) => [r.method, {
      score: Number.isFinite(r.score) ? r.score : null,
      threshold: r.threshold,
      detected: r.detected,
    }])),
  };
}

function toText(column: string, report: DriftReport): string {
  const lines = [`${column} (${report.featureType}, reference ${report.referenceSize}, current ${report.currentSize}), default method ${report.defaultMethod}`];
  for (const r of report.results) {
    const name = DRIFT_METHOD_SPECS[r.method].displayName;
    lines.push(`  ${name.padEnd(30)} ${String(r.score).padEnd(24)} threshold ${r.threshold}  ${r.detected ? 'drift detected' : 'no drift'}`);
  }
  return `${lines.join('\n')}\n`;
}
