/**
 * `npm run demo`: the local real stack (Kafka, Redis, a Prometheus per tenant), live synthetic
 * gateway traffic for three tenants, the shipped pipeline run through the `sluice` CLI, and a
 * table of each tenant's metrics read back from that tenant's own Prometheus as they arrive.
 *
 *   npm run demo [-- --duration 2m] [-- --rate 300] [-- --settle 20s] [-- --keep]
 *
 * Everything listens on 127.0.0.1 on free ports. The demo ends by itself after --duration of
 * traffic and --settle more (the last windows close and are delivered), and on Ctrl-C (SIGINT) or
 * SIGTERM at any point, startup included: it stops the pipeline (SIGTERM; sluice exits within
 * 10 s), then every service of the stack unless --keep is given (then `npm run stack -- down`
 * stops it). Exit code: 0 when it ran its course, 130 / 143 after SIGINT / SIGTERM, 1 on a failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseDuration } from '../../src/core/duration.ts';
import { defaultRunDir, freePort, queryInstant, startStack, stopStack, type Stack } from '../stack/index.ts';
import { DEMO_TENANTS, runDemoProducer } from './producer.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
/** sluice exits within 10 s of SIGTERM; past this the demo kills it rather than leave it behind. */
const PIPELINE_STOP_TIMEOUT_MS = 15_000;

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '90s' },
    rate: { type: 'string', default: '200' },
    settle: { type: 'string', default: '20s' },
    keep: { type: 'boolean', default: false },
  },
});
const durationMs = parseDuration(values.duration) ?? 90_000;
const settleMs = parseDuration(values.settle) ?? 20_000;

const say = (line: string) => process.stdout.write(`${line}\n`);

// Installed before anything starts: a signal at any moment stops whatever has been started.
const stopping = new AbortController();
let exitCode = 0;
const onSignal = (signal: NodeJS.Signals): void => {
  if (stopping.signal.aborted) {
    say(`${signal}: already stopping`);
    return;
  }
  exitCode = 128 + constants.signals[signal];
  say(`\n${signal}: stopping the pipeline and the stack...`);
  stopping.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

let stack: Stack | undefined;
let pipeline: ChildProcess | undefined;
try {
  say('Starting the local stack (Kafka in KRaft mode, Redis, one Prometheus per tenant)...');
  stack = await startStackUnlessStopped(stopping.signal);
  if (stack) {
    pipeline = startPipeline(stack, await freePort());
    await runDemo(stack, stopping.signal);
  }
} catch (error) {
  exitCode = 1;
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
} finally {
  stopping.abort();
  await stopPipeline(pipeline);
  if (stack && values.keep) say(`\nThe stack keeps running (--keep); stop it with: npm run stack -- down`);
  else if (stack) await stopAll(stack);
}
process.exitCode = exitCode;
// Everything is closed, so the process ends now; if anything were still open, say what and end anyway.
setTimeout(() => {
  process.stderr.write(`still open after the demo: ${process.getActiveResourcesInfo().join(', ')}\n`);
  process.exit(exitCode);
}, 2_000).unref();

/**
 * startStack, or undefined when a signal came first. A signal during start stops every service
 * spawned so far (startStack then fails on its own and stops the rest).
 */
async function startStackUnlessStopped(signal: AbortSignal): Promise<Stack | undefined> {
  const runDir = defaultRunDir();
  const starting = startStack({ runDir, tenants: [...DEMO_TENANTS], redis: true, log: (line) => say(`  ${line}`) });
  // A signal stops what was spawned; the start may then never settle (a readiness probe of a killed
  // service), and a top-level await left pending ends Node with code 13, not 130 / 143.
  let stopEarly = (): void => {};
  const stopped = new Promise<undefined>((resolve) => {
    stopEarly = () => {
      starting.then(stopAll, () => {}).catch(() => {});
      void stopStack(runDir)
        .catch(() => {})
        .finally(() => resolve(undefined));
    };
  });
  signal.addEventListener('abort', stopEarly, { once: true });
  try {
    const started = await Promise.race([starting, stopped]);
    return signal.aborted ? undefined : started;
  } catch (error) {
    if (signal.aborted) return await stopped;
    throw error;
  } finally {
    // Started in time: the demo's own shutdown (or --keep) decides about the stack from here.
    if (!signal.aborted) signal.removeEventListener('abort', stopEarly);
  }
}

/**
 * `sluice run pipelines/bailian-gateway.yaml` in its own process group, so a terminal's Ctrl-C
 * reaches the demo only, and the demo stops the pipeline once, before the stack it depends on.
 */
function startPipeline(stack: Stack, telemetryPort: number): ChildProcess {
  const sluiceLog = join(stack.runDir, 'sluice.log');
  const fd = openSync(sluiceLog, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [join(repo, 'src/cli/bin.js'), 'run', join(repo, 'pipelines/bailian-gateway.yaml')], {
      cwd: repo,
      detached: true,
      env: {
        ...process.env,
        SLUICE_KAFKA_BROKERS: stack.kafka.brokers.join(','),
        SLUICE_TELEMETRY_LISTEN: `127.0.0.1:${telemetryPort}`,
        // Stage 2 checkpoints in the stack's Redis, as a production deployment would.
        ...(stack.redis ? { SLUICE_STATE_BACKEND: 'redis', SLUICE_REDIS_URL: stack.redis.url } : {}),
        ...Object.fromEntries(DEMO_TENANTS.map((t) => [`SLUICE_TENANT_${t.toUpperCase()}_URL`, stack.prometheus[t]!.remoteWriteUrl])),
      },
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  child.once('exit', (code, signal) => {
    if (stopping.signal.aborted) return;
    say(`\nsluice exited unexpectedly (code ${code}, signal ${signal}); see ${sluiceLog}`);
    exitCode = 1;
    stopping.abort();
  });
  say(`\nSluice runs pipelines/bailian-gateway.yaml (log: ${sluiceLog}); its own metrics: http://127.0.0.1:${telemetryPort}/metrics`);
  return child;
}

/** Traffic for --duration, then --settle for the last windows, with a table every 10 s. */
async function runDemo(stack: Stack, signal: AbortSignal): Promise<void> {
  say("Each tenant's Prometheus (query it in a browser or with curl):");
  for (const tenant of DEMO_TENANTS) say(`  ${tenant.padEnd(8)} ${stack.prometheus[tenant]!.url}/graph`);
  say(`\nProducing ~${values.rate} gateway calls/s for ${values.duration}; windows are 10 s and close ~5 s after they end.\n`);
  const reporter = setInterval(() => void report(stack), 10_000);
  try {
    const result = await runDemoProducer({ brokers: stack.kafka.brokers, ratePerSecond: Number(values.rate), durationMs, signal });
    if (signal.aborted) return;
    // Let the last windows close (idle timeout, then the out-of-orderness bound) and be delivered.
    await sleep(settleMs, undefined, { signal }).catch(() => {});
    if (signal.aborted) return;
    await report(stack);
    say(`\nProduced ${result.produced} records, ${result.malformed} of them malformed (see sluice_dead_letter_records_total).`);
    say("Try in any tenant's Prometheus:");
    say('  sum by (model) (rate(bailian_gateway_requests_total[1m]))');
    say('  histogram_quantile(0.95, sum by (le, model) (rate(bailian_gateway_request_duration_seconds_bucket[1m])))');
    say('  sum by (error_code) (increase(bailian_gateway_requests_total{error_code!=""}[5m]))');
  } finally {
    clearInterval(reporter);
  }
}

/** SIGTERM, and the exit within PIPELINE_STOP_TIMEOUT_MS; SIGKILL (said so) if it does not come. */
async function stopPipeline(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `exit code ${code}`)));
  const started = Date.now();
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([exited, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), PIPELINE_STOP_TIMEOUT_MS)))]);
  clearTimeout(timer);
  if (outcome === undefined) {
    say(`sluice did not exit within ${PIPELINE_STOP_TIMEOUT_MS / 1000} s of SIGTERM; killing it`);
    child.kill('SIGKILL');
    await exited;
    return;
  }
  say(`\nsluice stopped in ${((Date.now() - started) / 1000).toFixed(1)} s (${outcome})`);
}

async function stopAll(stack: Stack): Promise<void> {
  const started = Date.now();
  await stack.stop();
  say(`stack stopped in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

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
