/**
 * Decode scaling: every codec decodes N bytes in O(N) (issue 8). Each shape, hostile ones
 * included (deep nesting, long varints, many attributes, many labels), is decoded at 64 KB and at
 * 1 MB; the table gives the median time of each and their ratio. Linear is ≈ 16 (1 MB / 64 KB);
 * quadratic would be ≈ 256. Standalone: `node --import tsx test/bench/decode-scaling.ts`.
 */
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { hostileShapes, scalingDecoders, type HostileShape } from '../unit/codecs/support/hostile-shapes.ts';

const SMALL = 64 * 1024;
const LARGE = 1024 * 1024;
const say = (line: string) => process.stdout.write(`${line}\n`);

/** The prometheus_text shapes of the exposition codec's own bench, when that file is present. */
async function prometheusShapes(): Promise<readonly HostileShape[]> {
  const path = new URL('./decode-scaling-prometheus.ts', import.meta.url);
  if (!existsSync(fileURLToPath(path))) return [];
  const module = (await import(path.href)) as Record<string, unknown>;
  const cases = Object.values(module).find((value): value is HostileShape[] => Array.isArray(value));
  return cases ?? [];
}

const extra = await prometheusShapes();
// Own prometheus_text shapes give way to the exposition codec's when it brings some.
const shapes = [...hostileShapes.filter((s) => extra.length === 0 || s.codec !== 'prometheus_text'), ...extra];
const decoders = scalingDecoders();

/** Median time of `runs` decodes, and the outcome of the last (for the table). */
function time(shape: HostileShape, bytes: Buffer, runs: number): { ms: number; outcome: string } {
  const { decoder, context } = decoders.get(shape.decoder ?? shape.codec)!;
  const times: number[] = [];
  let outcome = '';
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const result = decoder.decode(bytes, context);
    times.push(performance.now() - started);
    outcome = result.ok ? `${result.records.length} records` : `rejected (${result.reason})`;
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)]!, outcome };
}

say('decode scaling: median ms per message at 64 KB and 1 MB (linear ≈ 16×)');
say(`${'codec'.padEnd(16)}${'shape'.padEnd(30)}${'64 KB ms'.padStart(10)}${'1 MB ms'.padStart(10)}${'ratio'.padStart(8)}  outcome at 1 MB`);
let worst = 0;
for (const shape of shapes) {
  const small = shape.make(SMALL);
  const large = shape.make(LARGE);
  time(shape, small, 3); // warm-up: compile the hot paths before measuring
  const a = time(shape, small, 15);
  const b = time(shape, large, 5);
  // Sizes differ a little from the targets; compare time per byte.
  const ratio = (b.ms / large.length) * LARGE / Math.max((a.ms / small.length) * SMALL, 1e-3);
  worst = Math.max(worst, ratio);
  say(`${shape.codec.padEnd(16)}${shape.shape.padEnd(30)}${a.ms.toFixed(2).padStart(10)}${b.ms.toFixed(2).padStart(10)}${ratio.toFixed(1).padStart(8)}  ${b.outcome}`);
}
say(`largest ratio: ${worst.toFixed(1)} (16 is linear)`);
