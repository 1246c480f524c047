import { pino } from 'pino';
import { loadPipelineFile } from '../../../src/config/load.ts';
import { startPipelines, type RunningPipelines } from '../../../src/runtime/process.ts';
import type { StackInfo } from '../../stack/index.ts';
import { TEST_TENANTS } from '../../stack/index.ts';
import { eventually } from '../kafka-io.ts';
import { querySamples } from './prometheus.ts';
import { compareTenant, type Expected } from './windowed-oracle.ts';

/** Shared plumbing of the shipped-pipeline tests: the pipeline in process, Prometheus out (Kafka in: ../kafka-io.ts). */

/**
 * Starts a shipped pipeline file in this process against the test stack, with the overrides the
 * integration tests use: the stack's brokers, a 2 s idle timeout, an ephemeral telemetry port
 * and each test tenant's own Prometheus.
 */
export async function startShippedPipeline(stack: StackInfo, file: URL, extraEnv: Record<string, string> = {}): Promise<RunningPipelines> {
  const env = {
    SLUICE_KAFKA_BROKERS: stack.brokers.join(','),
    SLUICE_IDLE_TIMEOUT: '2s',
    SLUICE_TELEMETRY_LISTEN: '127.0.0.1:0',
    ...Object.fromEntries(TEST_TENANTS.map((t) => [`SLUICE_TENANT_${t.toUpperCase()}_URL`, stack.prometheus[t]!.remoteWriteUrl])),
    ...extraEnv,
  };
  const loaded = await loadPipelineFile(file.pathname, env);
  return startPipelines([loaded], { logger: pino({ level: 'warn' }) });
}

/**
 * Polls every tenant's Prometheus (raw samples of `selector` from `fromMs` to the last window
 * end) until it agrees with the oracle or `timeoutMs` pass; returns the last differences per
 * tenant (empty arrays when all agree) and the samples read.
 */
export async function awaitTenantsMatch(
  stack: StackInfo,
  selector: string,
  fromMs: number,
  lastWindowEnd: number,
  expected: ReadonlyMap<string, Expected>,
  options: { relativeAccuracy: number; timeoutMs: number; rangeSlackSeconds?: number },
): Promise<{ problems: Map<string, string[]>; samples: Map<string, Awaited<ReturnType<typeof querySamples>>> }> {
  const rangeSec = (lastWindowEnd - fromMs) / 1000 + (options.rangeSlackSeconds ?? 30);
  const read = async () => {
    const problems = new Map<string, string[]>();
    const samples = new Map<string, Awaited<ReturnType<typeof querySamples>>>();
    for (const tenant of TEST_TENANTS) {
      const rows = await querySamples(stack.prometheus[tenant]!.url, selector, rangeSec, lastWindowEnd / 1000);
      samples.set(tenant, rows);
      problems.set(tenant, compareTenant(rows, expected.get(tenant)!, options));
    }
    return { problems, samples };
  };
  // Done when everything agrees, or when every expected sample is there and two reads in a row
  // disagree the same way (wrong values that will not change: no point waiting for the timeout).
  let previous = '';
  return eventually(
    read,
    ({ problems }) => {
      const all = [...problems.values()].flat();
      const settled = all.every((p) => !p.startsWith('missing')) && JSON.stringify(all) === previous;
      previous = JSON.stringify(all);
      return all.length === 0 || settled;
    },
    options.timeoutMs,
    1_000,
  );
}

/**
 * Readable assertion output for a problem list: first a count per kind and metric name, then at
 * most `limit` of the lines, with the count of the rest. Empty for no problems.
 */
export function summarize(problems: readonly string[], limit = 25): string[] {
  if (problems.length === 0) return [];
  const counts = new Map<string, number>();
  for (const p of problems) {
    const key = `${p.slice(0, p.indexOf(' ', p.indexOf(' ') + 1))} ${/ ([a-zA-Z_:][a-zA-Z0-9_:]*)\{/.exec(p)?.[1] ?? '?'}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const overview = `${problems.length} problems: ${[...counts].map(([k, n]) => `${n}× ${k}`).join('; ')}`;
  return [overview, ...problems.slice(0, limit), ...(problems.length > limit ? [`… and ${problems.length - limit} more`] : [])];
}

/** A sample line of `/metrics` text, e.g. metricValue(body, 'sluice_records_in_total', { pipeline: 'x' }). */
export function metricValue(body: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of body.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const open = line.indexOf('{');
    const close = line.lastIndexOf('}');
    const pairs = open >= 0 && close > open ? line.slice(open + 1, close) : '';
    const have = new Map([...pairs.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) return Number(line.slice((close >= 0 ? close + 1 : line.indexOf(' ')) + 1).trim());
  }
  return undefined;
}
