import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { growthChosenAtStart, OLD_GENERATION_GROWTH_PERCENT } from '../../../src/runtime/heap-growth.ts';

const run = promisify(execFile);

/**
 * A child process keeps ~20 MiB alive and promotes garbage that dies soon after, as the pipeline
 * does; it prints the largest old space it saw. With the bound applied, V8 must keep the old space
 * within about (1 + percent) × live, where its own factor lets it grow to several times live.
 * 'bound' applies it the way a Sluice process does: by starting its pipelines (none here: no
 * Kafka needed, only the telemetry server on a free loopback port, stopped at once).
 */
const PROBE = `
import { getHeapSpaceStatistics } from 'node:v8';
import { pino } from 'pino';
import { startPipelines } from ${JSON.stringify(new URL('../../../src/runtime/process.ts', import.meta.url).pathname)};
if (process.argv[1] === 'bound') await (await startPipelines([], { logger: pino({ level: 'silent' }), telemetryListen: '127.0.0.1:0' })).stop();
const live = [];
for (let i = 0; i < 200_000; i++) live.push({ i, s: 'k' + i, a: [i, i + 1] });
let maxOld = 0;
let held = [];
for (let round = 0; round < 300; round++) {
  const batch = [];
  for (let i = 0; i < 20_000; i++) batch.push({ round, i, v: [i, round] });
  held.push(batch);
  if (held.length > 4) held = held.slice(-2);
  maxOld = Math.max(maxOld, getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').space_size);
}
console.log(JSON.stringify({ live: live.length, maxOldMiB: maxOld / 1048576 }));
`;

async function maxOldSpaceMiB(mode: 'bound' | 'free'): Promise<number> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', PROBE, mode], { env: { ...process.env, NODE_OPTIONS: '' } });
  return (JSON.parse(stdout) as { maxOldMiB: number }).maxOldMiB;
}

describe('heap growth bound', () => {
  it('keeps the old space of a process that starts pipelines much closer to what is live than V8 alone does', async () => {
    const [free, bound] = await Promise.all([maxOldSpaceMiB('free'), maxOldSpaceMiB('bound')]);
    // Measured at 100 %: free 247–258 MiB, bound 133–147 MiB (live ~25 MiB plus the batches in flight).
    expect(bound).toBeLessThan(free * 0.7);
  }, 60_000);

  it("leaves an operator's own --heap-growing-percent alone, in node's arguments or NODE_OPTIONS", () => {
    expect(growthChosenAtStart(['--heap-growing-percent=80'], undefined)).toBe(true);
    expect(growthChosenAtStart([], '--max-old-space-size=512 --heap_growing_percent=20')).toBe(true);
    expect(growthChosenAtStart(['--max-semi-space-size=8'], '--enable-source-maps')).toBe(false);
    expect(OLD_GENERATION_GROWTH_PERCENT).toBeGreaterThan(0);
  });
});
