/**
 * The bench's phases (phase.ts) run as the command line lists them, on one filled topic: for
 * trying a node flag or a change on issue 12's workload without the whole `npm run bench`.
 *
 *   node --import tsx test/bench/phase-runs.ts [--records N] <run> ...
 *   BENCH_PHASE_STDOUT=/tmp/gc node --import tsx test/bench/phase-runs.ts issue12:--trace-gc   (keeps each run's output)
 *
 * A run is `bare`, `pipeline` (the shipped gateway pipeline) or `issue12` (its 11 metrics), with
 * node's arguments after a colon (`issue12:--single-threaded-gc`), and with `@<checkout>` the
 * phase of another working tree (`git worktree add /tmp/base <commit>`, its own node_modules or a
 * link to these): `issue12@/tmp/base|issue12` sets a commit against this one. `A|B` runs A and B
 * at the same time, so both meet the same load, and prints B's CPU per record over A's: on this
 * shared 2-core machine runs one after another moved by a third with no change, and a pair cancels
 * what load they share (not what they take from each other). Each run prints its CPU-s per 1M
 * records split into the main thread's and the other threads' (thread-cpu.ts), records/s and peak
 * RSS. Totals are checked by `npm run bench`, not here.
 *
 * Measured with it (issue 12's 11 metrics, 1M records, machine load 1-5):
 *  - `--single-threaded-gc`: the other threads' CPU fell from 3.1-5.4 to 1.3-2.1 s, the main
 *    thread's did not rise beyond its noise; pairs (the flag over the default) 0.84, 0.92, 1.03
 *    and 1.19. The flag cannot ship: node refuses it in NODE_OPTIONS, and set at run time
 *    (v8.setFlagsFromString) V8 aborted in cppgc's marker (a concurrent marking job started
 *    before the flag changed).
 *  - `--no-parallel-scavenge`: the other threads 2.2-4.1 s (the default's 3.1-3.7 in the same
 *    session): most of their time is concurrent marking, not the scavenges.
 *  - Warm-up flags, pairs (the flag over the default, each order twice): `--max-semi-space-size=32`
 *    1.08 and 0.98; `--always-sparkplug` 1.08 and 1.01; `--no-lazy-feedback-allocation` 1.05 and
 *    1.02; `--max-inlined-bytecode-size-cumulative=460` 0.97, 1.00, 1.01 and 1.02;
 *    `--interrupt-budget=200000` 0.96, 1.01, 0.99 and 0.95 (the first quarter's other threads
 *    0.2-0.4 CPU-s lower, the main thread's a little higher). None ships.
 */
import '../../src/sources/kafka/kafkajs-read-committed.ts'; // before kafkajs: its read_committed filter, fixed
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { startStack } from '../stack/index.ts';
import { BENCH_TENANTS, fillGatewayTopic, phaseEnvironment, runPhase, type PhaseResult } from './gateway-topic.ts';

const { values, positionals } = parseArgs({ options: { records: { type: 'string', default: '1000000' } }, allowPositionals: true });
const records = Number(values.records);
if (positionals.length === 0) throw new Error('name the runs: bare, pipeline or issue12, each optionally :node-args, A|B for a pair');

const runDir = mkdtempSync(join(tmpdir(), 'sluice-phase-runs-'));
const stack = await startStack({ runDir, tenants: [...BENCH_TENANTS], redis: false });
try {
  const kafka = new Kafka({ clientId: 'bench-fill', brokers: stack.kafka.brokers, logLevel: logLevel.NOTHING });
  const { lastTimestamp } = await fillGatewayTopic(kafka, records);
  const env = phaseEnvironment(stack, records, lastTimestamp);
  let serial = 0;

  /** One run of `spec`; pipeline runs are labelled apart (own name, group and series), so the two runs of a pair never share a consumer group. */
  async function run(spec: string): Promise<PhaseResult> {
    const [target, args] = spec.split(':') as [string, string | undefined];
    const [what, checkout] = target.split('@') as [string, string | undefined];
    const nodeArgs = args?.split(',').filter(Boolean) ?? [];
    if (what === 'bare') return runPhase('bare', env, nodeArgs, checkout);
    if (what === 'pipeline') return runPhase('pipeline', { ...env, BENCH_LABEL: `runs-${serial++}` }, nodeArgs, checkout);
    if (what === 'issue12') return runPhase('pipeline', { ...env, BENCH_WORKLOAD: 'issue12', BENCH_LABEL: `runs-${serial++}` }, nodeArgs, checkout);
    throw new Error(`unknown run ${what}: expected bare, pipeline or issue12`);
  }

  /** CPU-s per 1M records over `counted` records, and its split by thread where there is one. */
  const cpuPerMillion = (counted: number, cpuSeconds: number, threads: PhaseResult['threads']) => {
    const per = (seconds: number) => ((seconds / counted) * 1e6).toFixed(2);
    return `${per(cpuSeconds).padStart(6)}${threads ? ` (main ${per(threads.main)}, other threads ${per(threads.other)})` : ''}`;
  };

  const describe = (spec: string, r: PhaseResult) =>
    `${spec.padEnd(36)} CPU-s/1M ${cpuPerMillion(records, r.cpuSeconds, r.threads)}` +
    (r.steady ? `, middle half ${cpuPerMillion(r.steady.records, r.steady.cpuSeconds, r.steady.threads)}` : '') +
    (r.steady && r.firstQuarter
      ? `; CPU-s first quarter ${r.firstQuarter.cpuSeconds.toFixed(2)}${r.firstQuarter.threads ? ` (other threads ${r.firstQuarter.threads.other.toFixed(2)})` : ''}, middle half ${r.steady.cpuSeconds.toFixed(2)}, last quarter and close ${(r.cpuSeconds - r.firstQuarter.cpuSeconds - r.steady.cpuSeconds).toFixed(2)}`
      : '') +
    (r.close ? ` (close ${r.close.cpuSeconds.toFixed(2)} in ${r.close.seconds.toFixed(2)} s)` : '') +
    `  ${Math.round(records / r.seconds).toLocaleString('en-US')} records/s  peak RSS ${r.maxRssMiB} MiB`;

  const ratios: number[] = [];
  for (const spec of positionals) {
    const pair = spec.split('|');
    if (pair.length === 2) {
      const [a, b] = await Promise.all([run(pair[0]!), run(pair[1]!)]);
      ratios.push(b.cpuSeconds / a.cpuSeconds);
      process.stdout.write(`pair, B / A CPU per record ${(b.cpuSeconds / a.cpuSeconds).toFixed(3)}\n  A ${describe(pair[0]!, a)}\n  B ${describe(pair[1]!, b)}\n`);
    } else process.stdout.write(`${describe(spec, await run(spec))}\n`);
  }
  if (ratios.length > 0) process.stdout.write(`pairs, B / A: ${ratios.map((r) => r.toFixed(3)).join(' ')}\n`);
} finally {
  await stack.stop();
  rmSync(runDir, { recursive: true, force: true });
}
