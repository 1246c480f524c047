import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what the last full GC left alive before the next
 * one, in percent (V8's `--heap-growing-percent`; by default V8 picks a factor of 1.1–4 from its
 * GC and mutator speeds). The pipeline's live heap is ~55 MiB, and much of what it promotes dies
 * soon after: a fetch's decoded records still waiting their turn, a flush's partials, a fired
 * window's samples. With V8's own factor the old space grew further, and the external memory
 * (fetch buffers, request bodies) climbed a further ~64 MiB between two full GCs: most of the gap
 * to the bare consume's peak RSS (issue 12: 1.29–1.44× it; 346–392 MiB against 280–296 at 100 %,
 * the bare consume's ~270).
 *
 * Lower costs CPU: a full GC marks the whole live heap once per (growth − 1) × live promoted, so
 * its cost per promoted byte goes as 1 / (growth − 1). At 50 % issue 12's 11-metric run took ~25
 * CPU-s per 1M records against 17.5–21. At 75 % it made 29 full GCs per 1M records against the
 * bare consume's 13 (each marking ~56 MiB against 30), at 100 % 12. Six pairs run at the same time
 * read 100 % at 0.88–1.11 of 75 %'s CPU per record (median 0.94; other threads, where the marking
 * runs, 5.2 against 6.5 CPU-s per 1M) for +9 MiB peak RSS; 125 % no better (0.82–1.04, median
 * 0.95) for +24 MiB (test/bench/README.md).
 */
export const OLD_GENERATION_GROWTH_PERCENT = 100;

const FLAG = /--heap[-_]growing[-_]percent\b/;

/** True when the process was started with its own `--heap-growing-percent` (node's arguments or NODE_OPTIONS): the operator's choice stands. */
export function growthChosenAtStart(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return execArgv.some((arg) => FLAG.test(arg)) || FLAG.test(nodeOptions ?? '');
}

/**
 * Applies OLD_GENERATION_GROWTH_PERCENT to this process's V8 unless the process was started with
 * a value of its own. V8 reads it at every full GC, so it takes effect from the next one.
 */
export function boundOldGenerationGrowth(): void {
  if (growthChosenAtStart(process.execArgv, process.env.NODE_OPTIONS)) return;
  setFlagsFromString(`--heap-growing-percent=${OLD_GENERATION_GROWTH_PERCENT}`);
}
