// startStack / stopStack: Kafka + Redis + one Prometheus per tenant, started
// in parallel, recorded in <runDir>/stack.json, reused when already running.

import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { JARS_MARKER, KAFKA_VERSION, kafkaLibsDir } from './kafka-jars.ts';
import { kafkaReady, startKafka } from './kafka.ts';
import { isProcessAlive, requireBinary, stopProcess } from './process.ts';
import { prometheusReady, startPrometheus, tenantPrometheus } from './prometheus.ts';
import { redisHandle, redisReady, startRedis, type RedisHandle } from './redis.ts';
import { readState, recordedServices, removeState, writeState, type StackState } from './state.ts';
import type { Stack, StackOptions, StackRedis, TenantPrometheus } from './types.ts';

export function defaultRunDir(): string {
  return process.env.SLUICE_STACK_DIR || join(tmpdir(), 'sluice-stack');
}

// Tenant names become directory and file names.
const TENANT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

const layout = (runDir: string) => ({
  logs: join(runDir, 'logs'),
  kafkaDir: join(runDir, 'kafka'),
  kafkaLog: join(runDir, 'logs', 'kafka.log'),
  redisDir: join(runDir, 'redis'),
  redisLog: join(runDir, 'logs', 'redis.log'),
  promDir: (tenant: string) => join(runDir, 'prometheus', tenant),
  promLog: (tenant: string) => join(runDir, 'logs', `prometheus-${tenant}.log`),
});

export async function startStack(options: StackOptions): Promise<Stack> {
  const runDir = resolve(options.runDir ?? defaultRunDir());
  const log = options.log ?? (() => {});
  const wantRedis = options.redis ?? true;
  const tenants = [...new Set(options.tenants)];
  for (const t of tenants) {
    if (!TENANT_NAME.test(t)) throw new Error(`invalid tenant name ${JSON.stringify(t)}: use letters, digits, "_", ".", "-"`);
  }

  mkdirSync(runDir, { recursive: true });
  const existing = readState(runDir);
  if (existing) {
    if (await isReusable(existing, tenants, wantRedis)) {
      log(`stack: reusing the running stack in ${runDir}`);
      return stackFromState(existing, true, log);
    }
    log(`stack: stopping leftovers of a previous stack in ${runDir}`);
    await stopRecorded(existing);
    removeState(runDir);
  }

  // Fail before spawning anything when a binary is missing.
  requireBinary('java', 'openjdk-17-jre-headless');
  if (!existsSync(join(kafkaLibsDir(), JARS_MARKER))) requireBinary('mvn', 'maven');
  if (wantRedis) requireBinary('redis-server', 'redis-server');
  if (tenants.length > 0) requireBinary('prometheus', 'prometheus');

  // Fresh start: no data (or logs) from an earlier stack.
  const paths = layout(runDir);
  for (const d of [paths.logs, paths.kafkaDir, paths.redisDir, join(runDir, 'prometheus')]) {
    rmSync(d, { recursive: true, force: true });
  }
  mkdirSync(paths.logs, { recursive: true });

  const state: StackState = {
    version: 1,
    runDir,
    createdAt: new Date().toISOString(),
    ownerPid: process.pid,
    tenants,
    prometheus: {},
  };
  writeState(state);

  const started = Date.now();
  log(`stack: starting Kafka${wantRedis ? ', Redis' : ''} and Prometheus for ${tenants.join(', ') || 'no tenants'} in ${runDir}`);
  // Every service records its pid in stack.json as soon as it is spawned, so
  // a crash of this process mid-start still leaves them findable.
  const jobs: Array<{ name: string; job: Promise<unknown> }> = [];
  jobs.push({
    name: 'kafka',
    job: startKafka({
      dir: paths.kafkaDir,
      logFile: paths.kafkaLog,
      log,
      ...(options.groupInitialRebalanceDelayMs === undefined ? {} : { groupInitialRebalanceDelayMs: options.groupInitialRebalanceDelayMs }),
      onSpawn: ({ pid, match, port, controllerPort }) => {
        state.kafka = { pid, match, port, controllerPort, dir: paths.kafkaDir, logFile: paths.kafkaLog, kafkaVersion: KAFKA_VERSION };
        writeState(state);
      },
    }),
  });
  if (wantRedis) {
    jobs.push({
      name: 'redis',
      job: startRedis({
        dir: paths.redisDir,
        logFile: paths.redisLog,
        log,
        onSpawn: ({ pid, match, port }) => {
          state.redis = { pid, match, port, dir: paths.redisDir, logFile: paths.redisLog };
          writeState(state);
        },
      }),
    });
  }
  for (const tenant of tenants) {
    jobs.push({
      name: `prometheus[${tenant}]`,
      job: startPrometheus({
        tenant,
        dir: paths.promDir(tenant),
        logFile: paths.promLog(tenant),
        log,
        onSpawn: ({ pid, match, port }) => {
          state.prometheus[tenant] = { pid, match, port, dir: paths.promDir(tenant), logFile: paths.promLog(tenant) };
          writeState(state);
        },
      }),
    });
  }

  const results = await Promise.allSettled(jobs.map((j) => j.job));
  const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [{ name: jobs[i]!.name, error: r.reason as unknown }] : []));
  if (failures.length > 0) {
    await stopRecorded(readState(runDir) ?? state).catch(() => {});
    removeState(runDir);
    const only = failures[0]!.error;
    if (failures.length === 1 && only instanceof Error) throw only;
    throw new Error(
      `local stack failed to start (logs in ${paths.logs}):\n` +
        failures.map((f) => `- ${f.name}: ${f.error instanceof Error ? f.error.message : String(f.error)}`).join('\n'),
    );
  }
  log(`stack: up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return stackFromState(state, false, log);
}

/** Stop whatever <runDir>/stack.json describes and remove it. No-op without a stack.json. */
export async function stopStack(runDir: string = defaultRunDir()): Promise<void> {
  const dir = resolve(runDir);
  const state = readState(dir);
  if (!state) return;
  await stopRecorded(state);
  removeState(dir);
}

/** Stop all recorded services in parallel (each: SIGTERM, ≤10 s, SIGKILL). */
async function stopRecorded(state: StackState): Promise<void> {
  const results = await Promise.allSettled(
    recordedServices(state).map(({ record }) =>
      record.pid === undefined ? Promise.resolve() : stopProcess(record.pid, record.match),
    ),
  );
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed.length > 0) {
    throw new Error(`could not stop the stack in ${state.runDir}: ${failed.map((f) => String(f.reason)).join('; ')}`);
  }
}

/** Alive (pid + command line) and answering its ready check. */
async function isReusable(state: StackState, tenants: string[], wantRedis: boolean): Promise<boolean> {
  const alive = (r: { pid: number | undefined; match: string } | undefined): r is { pid: number; match: string } =>
    r !== undefined && r.pid !== undefined && isProcessAlive(r.pid, r.match);
  const kafka = state.kafka;
  if (!kafka || kafka.kafkaVersion !== KAFKA_VERSION || !alive(kafka)) return false;
  if (wantRedis && !alive(state.redis)) return false;
  if (!tenants.every((t) => alive(state.prometheus[t]))) return false;

  const checks: Array<Promise<boolean>> = [kafkaReady([`127.0.0.1:${kafka.port}`])];
  if (wantRedis && state.redis) checks.push(redisReady(state.redis.port));
  for (const t of tenants) checks.push(prometheusReady(tenantPrometheus(t, state.prometheus[t]!.port, '').url));
  return (await Promise.all(checks)).every(Boolean);
}

/** The Stack API over a recorded state (fresh or reused). */
function stackFromState(state: StackState, reused: boolean, log: (line: string) => void): Stack {
  const kafka = state.kafka!;
  const prometheus: Record<string, TenantPrometheus> = {};
  for (const [tenant, r] of Object.entries(state.prometheus)) prometheus[tenant] = tenantPrometheus(tenant, r.port, r.logFile);

  let redis: StackRedis | undefined;
  if (state.redis) {
    const r = state.redis;
    // Keep stack.json's redis pid current across stop()/start(), so stopStack
    // from another process finds a restarted Redis.
    const handle: RedisHandle = redisHandle({
      dir: r.dir,
      logFile: r.logFile,
      port: r.port,
      pid: r.pid,
      log,
      onSpawn: ({ pid }) => updateRedisPid(state, pid),
    });
    redis = {
      url: handle.url,
      port: handle.port,
      logFile: handle.logFile,
      stop: async () => {
        await handle.stop();
        updateRedisPid(state, undefined);
      },
      start: () => handle.start(),
    };
  }

  return {
    runDir: state.runDir,
    reused,
    kafka: { brokers: [`127.0.0.1:${kafka.port}`], logFile: kafka.logFile, version: kafka.kafkaVersion },
    ...(redis ? { redis } : {}),
    prometheus,
    stop: async () => {
      // stack.json is the source of truth (another process may have
      // restarted Redis); fall back to what we know if it is gone.
      await stopRecorded(readState(state.runDir) ?? state);
      removeState(state.runDir);
    },
  };
}

function updateRedisPid(state: StackState, pid: number | undefined): void {
  if (state.redis) state.redis.pid = pid;
  // never recreate a stack.json that stop() already removed
  const current = readState(state.runDir);
  if (!current?.redis) return;
  current.redis.pid = pid;
  writeState(current);
}
