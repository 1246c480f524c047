/**
 * One run of the cardinality benchmark, in its own process so its peak RSS is its own: the
 * gateway pipeline (a variant on its own topic, see test/support/cardinality.ts) in process,
 * watching when each window of the watched tenant is acknowledged by its receiver
 * (`sluice_remote_write_highest_sent_timestamp_seconds`, as Prometheus' own remote-write delay
 * metric). Prints `ready` once it owns its partitions; on `end` (stdin) prints one JSON line:
 * { deliveredAt: [windowEndMs, wallMs][], maxRssMiB, folded, checkpoints: { count, seconds, bytes }, loop: event-loop
 * delay { p50Ms, p99Ms, maxMs } }.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { startPipelines } from '../../src/runtime/process.ts';
import { gatewayVariant, type GatewayVariant } from '../support/cardinality.ts';

// A stage-1 task whose partition is revoked while it starts can reject (kafkajs: "Consumer group
// was not initialized"); that is the consumer-restart work's to handle, not this measurement's.
process.on('unhandledRejection', (error) => process.stderr.write(`unhandled rejection: ${String(error)}\n`));

const variant = JSON.parse(process.env.BENCH_VARIANT!) as GatewayVariant;
const watched = process.env.BENCH_WATCHED_TENANT!;
const WINDOW_MS = 10_000;

// Logs to stderr: stdout carries this phase's protocol.
const running = await startPipelines([gatewayVariant(variant)], { logger: pino({ level: 'warn' }, pino.destination(2)) });
while (!running.runners.every((r) => r.ready)) await new Promise((resolve) => setTimeout(resolve, 100));
process.stdout.write('ready\n');
// How long the event loop was blocked at worst: one tenant's flood must not hold up the others' work.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

const highestSent = running.metrics.registry.getSingleMetric('sluice_remote_write_highest_sent_timestamp_seconds')!;
const deliveredAt: [number, number][] = [];
let newest = 0;
const poll = setInterval(() => {
  void (async () => {
    const value = (await highestSent.get()).values.find((v) => v.labels.tenant === watched)?.value ?? 0;
    const now = Date.now();
    const end = Math.floor((value * 1000) / WINDOW_MS) * WINDOW_MS;
    // Every window end reached since the last poll was delivered by now.
    for (let w = newest === 0 ? end : newest + WINDOW_MS; w <= end && end > 0; w += WINDOW_MS) deliveredAt.push([w, now]);
    if (end > newest) newest = end;
  })();
}, 50);

for await (const line of createInterface({ input: process.stdin })) if (line.trim() === 'end') break;
clearInterval(poll);
const folded = (await running.metrics.stateSeriesFolded.get()).values.reduce((sum, v) => sum + v.value, 0);
const maxRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
loopDelay.disable();
const sumOf = async (metric: string, suffix = '') =>
  (await running.metrics.registry.getSingleMetric(metric)!.get()).values
    .filter((v) => ((v as { metricName?: string }).metricName ?? metric) === metric + suffix)
    .reduce((sum, v) => sum + v.value, 0);
const checkpoints = {
  count: await sumOf('sluice_checkpoint_duration_seconds', '_count'),
  seconds: await sumOf('sluice_checkpoint_duration_seconds', '_sum'),
  bytes: await sumOf('sluice_checkpoint_bytes_total'),
};
const loop = { p50Ms: loopDelay.percentile(50) / 1e6, p99Ms: loopDelay.percentile(99) / 1e6, maxMs: loopDelay.max / 1e6 };
if (process.env.BENCH_DEBUG) {
  for (const name of ['sluice_records_in_total', 'sluice_watermark_delay_seconds', 'sluice_remote_write_samples_sent_total', 'sluice_remote_write_samples_pending', 'sluice_window_state_series', 'sluice_remote_write_samples_failed_total', 'sluice_dead_letter_records_total']) {
    process.stderr.write(`${name} ${JSON.stringify((await running.metrics.registry.getSingleMetric(name)!.get()).values.map((v) => [v.labels, v.value]))}\n`);
  }
  process.stderr.write(`delivered ${JSON.stringify(deliveredAt.map(([w, t]) => [w, t - w]))}\n`);
}
await running.stop();
process.stdout.write(`${JSON.stringify({ deliveredAt, maxRssMiB, folded, checkpoints, loop })}\n`);
process.exit(0);
