import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what the last full GC left alive before the next
 * one, in percent (V8's `--heap-growing-percent`; by default V8 picks a factor of 1.1–4 from its
 * GC and mutator speeds). The pipeline's live heap is ~60 MiB, and much of what it promotes dies
 * soon after: a flush's partials, a fired window's samples, a checkpoint's packed entries. With
 * V8's own factor the old space sat at ~2× live, and the external memory (fetch buffers, request
 * bodies) climbed a further ~64 MiB between two full GCs: most of the gap to the bare consume's
 * peak RSS (issue 12: 1.29–1.44× it). At 1.75× the peak is 1.03–1.20× the bare consume's. Lower
 * costs CPU: a full GC marks the whole live heap once per (growth − 1) × live promoted, so its
 * cost per promoted byte goes as 1 / (growth − 1); at 50 % issue 12's 11-metric run took ~25 CPU-s per 1M
 * records in both runs against 17.5–21 (figures in the commit that set this).
 */
export const OLD_GENERATION_GROWTH_PERCENT = 75;

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
