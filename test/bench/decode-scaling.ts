/**
 * Decode scaling: every codec decodes N bytes in O(N) (issue 8). Each shape, hostile ones
 * included (deep nesting, long varints, many attributes, many labels), is decoded at 64 KB and at
 * 1 MB; the table gives the best time of each (wall and CPU) and their ratio. Linear is ≈ 16
 * (1 MB / 64 KB); quadratic would be ≈ 256. Caches and GC make 1 MB dearer per byte than 64 KB,
 * so up to ≈ 40 is still linear (measured: from 256 KB to 4 MB the CPU time per byte of the worst
 * such shapes stays within 1.5×). Standalone: `node --import tsx test/bench/decode-scaling.ts`.
 */
import { performance } from 'node:perf_hooks';
import { hostileShapes, scalingDecoders, type HostileShape } from '../unit/codecs/support/hostile-shapes.ts';
import { decoderFor, prometheusDecodeScalingCases, type DecodeScalingCase } from './decode-scaling-prometheus.ts';

const SMALL = 64 * 1024;
const LARGE = 1024 * 1024;
const say = (line: string) => process.stdout.write(`${line}\n`);

// The exposition codec's own shapes (with their grouping keys) replace the generic prometheus_text ones.
const shapes = [...hostileShapes.filter((s) => s.codec !== 'prometheus_text'), ...prometheusDecodeScalingCases];
const decoders = scalingDecoders();

/**
 * The best of `runs` decodes, in wall time and in process CPU time (GC threads included): on a
 * shared machine wall time also counts waiting for a core, so the ratio is taken on CPU time.
 */
function time(shape: HostileShape | DecodeScalingCase, bytes: Buffer, runs: number): { ms: number; cpuMs: number; outcome: string } {
  const { decoder, context } = 'config' in shape ? decoderFor(shape, bytes.length) : decoders.get(shape.decoder ?? shape.codec)!;
  let ms = Number.POSITIVE_INFINITY;
  let cpuMs = Number.POSITIVE_INFINITY;
  let outcome = '';
  for (let i = 0; i < runs; i++) {
    const cpu = process.cpuUsage();
    const started = performance.now();
    const result = decoder.decode(bytes, context);
    ms = Math.min(ms, performance.now() - started);
    const used = process.cpuUsage(cpu);
    cpuMs = Math.min(cpuMs, (used.user + used.system) / 1000);
    outcome = result.ok ? `${result.records.length} records` : `rejected (${result.reason})`;
    if (ms > 5_000) break; // a super-linear case shows in one run; do not wait on it five times
  }
  return { ms, cpuMs, outcome };
}

/** 1 MB time over 64 KB time, per byte (sizes differ a little from the targets); below 0.05 ms is noise. */
function ratio(small: number, smallBytes: number, large: number, largeBytes: number): number {
  return ((Math.max(large, 0.05) / largeBytes) * LARGE) / ((Math.max(small, 0.05) / smallBytes) * SMALL);
}

say('decode scaling: best of 5 at 64 KB and 1 MB; ratio of CPU time per byte (linear ≈ 16×, quadratic ≈ 256×)');
say(`${'codec'.padEnd(16)}${'shape'.padEnd(30)}${'64 KB ms'.padStart(10)}${'1 MB ms'.padStart(10)}${'64 KB cpu'.padStart(11)}${'1 MB cpu'.padStart(10)}${'ratio'.padStart(8)}  outcome at 1 MB`);
let worst = 0;
for (const shape of shapes) {
  const small = shape.make(SMALL);
  const large = shape.make(LARGE);
  time(shape, small, 3); // warm-up: compile the hot paths before measuring
  const a = time(shape, small, 5);
  const b = time(shape, large, 5);
  const r = ratio(a.cpuMs, small.length, b.cpuMs, large.length);
  worst = Math.max(worst, r);
  const cells = [a.ms, b.ms].map((v) => v.toFixed(2).padStart(10)).join('') + a.cpuMs.toFixed(2).padStart(11) + b.cpuMs.toFixed(2).padStart(10);
  say(`${shape.codec.padEnd(16)}${shape.shape.padEnd(30)}${cells}${r.toFixed(1).padStart(8)}  ${b.outcome}`);
}
say(`largest ratio: ${worst.toFixed(1)} (16 is linear)`);
