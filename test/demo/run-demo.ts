/**
 * `npm run demo`: the local real stack (Kafka, Redis, a Prometheus per tenant), live synthetic
 * gateway traffic for three tenants, the shipped pipeline run through the `sluice` CLI, and a
 * table of each tenant's metrics read back from that tenant's own Prometheus as they arrive.
 *
 *   npm run demo [-- --duration 2m] [-- --rate 300] [-- --keep]
 *
 * Everything listens on 127.0.0.1 on free ports and is stopped at the end (or on Ctrl-C)
 * unless --keep is given; then `npm run stack -- down` stops it.
 */
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseDuration } from '../../src/core/duration.ts';
import { freePort, queryInstant, startStack, type Stack } from '../stack/index.ts';
import { DEMO_TENANTS, runDemoProducer } from './producer.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '90s' },
    rate: { type: 'string', default: '200' },
    keep: { type: 'boolean', default: false },
  },
});
const durationMs = parseDuration(values.duration) ?? 90_000;

const say = (line: string) => process.stdout.write(`${line}\n`);

say('Starting the local stack (Kafka in KRaft mode, Redis, one Prometheus per tenant)...');
const stack = await startStack({ tenants: [...DEMO_TENANTS], redis: true, log: (line) => say(`  ${line}`) });
const telemetryPort = await freePort();
const sluiceLog = join(stack.runDir, 'sluice.log');
const pipeline = spawn(process.execPath, [join(repo, 'src/cli/bin.js'), 'run', join(repo, 'pipelines/bailian-gateway.yaml')], {
  cwd: repo,
  env: {
    ...process.env,
    SLUICE_KAFKA_BROKERS: stack.kafka.brokers.join(','),
    SLUICE_TELEMETRY_LISTEN: `127.0.0.1:${telemetryPort}`,
    // Stage 2 checkpoints in the stack's Redis, as a production deployment would.
    ...(stack.redis ? { SLUICE_STATE_BACKEND: 'redis', SLUICE_REDIS_URL: stack.redis.url } : {}),
    ...Object.fromEntries(DEMO_TENANTS.map((t) => [`SLUICE_TENANT_${t.toUpperCase()}_URL`, stack.prometheus[t]!.remoteWriteUrl])),
  },
  stdio: ['ignore', openSync(sluiceLog, 'a'), openSync(sluiceLog, 'a')],
});

const controller = new AbortController();
let stopping = false;
const stopAll = async () => {
  if (stopping) return;
  stopping = true;
  controller.abort();
  pipeline.kill('SIGTERM');
  await new Promise((resolve) => (pipeline.exitCode !== null ? resolve(undefined) : pipeline.once('exit', resolve)));
  if (values.keep) say(`\nThe stack keeps running (--keep); stop it with: npm run stack -- down`);
  else await stack.stop();
};
process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));

say(`\nSluice runs pipelines/bailian-gateway.yaml (log: ${sluiceLog}); its own metrics: http://127.0.0.1:${telemetryPort}/metrics`);
say('Each tenant\'s Prometheus (query it in a browser or with curl):');
for (const tenant of DEMO_TENANTS) say(`  ${tenant.padEnd(8)} ${stack.prometheus[tenant]!.url}/graph`);
say(`\nProducing ~${values.rate} gateway calls/s for ${values.duration}; windows are 10 s and close ~5 s after they end.\n`);

const producing = runDemoProducer({
  brokers: stack.kafka.brokers,
  ratePerSecond: Number(values.rate),
  durationMs,
  signal: controller.signal,
});
const reporter = setInterval(() => void report(stack), 10_000);
const result = await producing;
// Let the last windows close (idle timeout, then the out-of-orderness bound) and be delivered.
await new Promise((resolve) => setTimeout(resolve, 20_000));
clearInterval(reporter);
await report(stack);
say(`\nProduced ${result.produced} records, ${result.malformed} of them malformed (see sluice_dead_letter_records_total).`);
say('Try in any tenant\'s Prometheus:');
say('  sum by (model) (rate(bailian_gateway_requests_total[1m]))');
say('  histogram_quantile(0.95, sum by (le, model) (rate(bailian_gateway_request_duration_seconds_bucket[1m])))');
say('  sum by (error_code) (increase(bailian_gateway_requests_total{error_code!=""}[5m]))');
await stopAll();

/** One table row per tenant, read from that tenant's own Prometheus. */
async function report(stack: Stack): Promise<void> {
  const rows: string[] = [];
  for (const tenant of DEMO_TENANTS) {
    const url = stack.prometheus[tenant]!.url;
    const one = async (promql: string) => (await queryInstant(url, promql).catch(() => []))[0]?.value ?? 0;
    const requests = await one('sum(bailian_gateway_requests_total)');
    const errors = await one('sum(bailian_gateway_requests_total{http_status!="200"})');
    const throttled = await one('sum(bailian_gateway_requests_total{error_code=~"Throttling.*"})');
    const tokensIn = await one('sum(bailian_gateway_input_tokens_total)');
    const tokensOut = await one('sum(bailian_gateway_output_tokens_total)');
    const p95 = await one('histogram_quantile(0.95, sum by (le) (bailian_gateway_request_duration_seconds_bucket))');
    const models = (await queryInstant(url, 'count by (model) (bailian_gateway_requests_total)').catch(() => [])).length;
    rows.push(
      [tenant.padEnd(8), fmt(requests, 9), fmt(errors, 7), fmt(throttled, 9), fmt(tokensIn, 12), fmt(tokensOut, 11), `${p95.toFixed(2)} s`.padStart(8), String(models).padStart(6)].join(' '),
    );
  }
  say(`${new Date().toISOString().slice(11, 19)}  tenant   requests  errors throttled    tokens in  tokens out   p95 lat models`);
  for (const row of rows) say(`          ${row}`);
}

function fmt(value: number, width: number): string {
  return Math.round(value).toLocaleString('en-US').padStart(width);
}
