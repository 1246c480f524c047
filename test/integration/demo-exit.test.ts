import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { stopStack } from '../stack/index.ts';
import { readState, recordedServices } from '../stack/state.ts';
import { eventually, sleep } from '../support/kafka-io.ts';
import { isListening, isRunning, ProcessTreeWatch, type ProcessRecord } from '../support/process-tree.ts';

/**
 * Issue 8, item 9: `npm run demo` returns by itself after --duration, and on SIGINT (Ctrl-C) and
 * SIGTERM, also while its stack is starting; afterwards no process it started (Kafka, Redis, the
 * three Prometheus, sluice) is left running and none of their ports is open. Each run has its own
 * stack directory, so the integration stack of the other tests is never touched.
 */

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Stack start (a JVM, on a busy machine) + traffic + settle + stop, with room to spare. */
const RUN_TIMEOUT_MS = 150_000;

const stack = inject('stack');
let runs = 0;
const cleanups: (() => Promise<void>)[] = [];
const timings: string[] = [];

interface DemoRun {
  readonly dir: string;
  readonly output: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly watch: ProcessTreeWatch;
  readonly signal: (name: NodeJS.Signals) => void;
  /** Ports recorded in the run's stack.json, and sluice's telemetry port once it printed it. */
  readonly ports: Set<number>;
}

function startDemo(args: string[]): DemoRun {
  const dir = join(stack.runDir, 'demo-exit', `run-${++runs}`);
  mkdirSync(dir, { recursive: true });
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_OPTIONS'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/demo/run-demo.ts', ...args], {
    cwd: REPO_ROOT,
    env: { ...inherited, SLUICE_STACK_DIR: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const watch = new ProcessTreeWatch(child.pid!);
  const ports = new Set<number>();
  const portWatch = setInterval(() => {
    const state = readState(dir);
    for (const { record } of state ? recordedServices(state) : []) ports.add(record.port);
    if (state?.kafka?.controllerPort) ports.add(state.kafka.controllerPort);
    const telemetry = telemetryPort(text);
    if (telemetry !== undefined) ports.add(telemetry);
  }, 200);
  void exited.then(() => clearInterval(portWatch));
  cleanups.push(async () => {
    clearInterval(portWatch);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    for (const record of watch.stop()) if (isRunning(record)) process.kill(record.pid, 'SIGKILL');
    await stopStack(dir).catch(() => {});
  });
  return { dir, output: () => text, exited, watch, signal: (name) => child.kill(name), ports };
}

/** Sluice's telemetry port, from the demo's "its own metrics: <url>" line. */
function telemetryPort(output: string): number | undefined {
  const port = /its own metrics: http:\/\/127\.0\.0\.1:(\d+)\//.exec(output)?.[1];
  return port === undefined ? undefined : Number(port);
}

/** Waits for the exit (bounded), then checks that every process the demo started is gone and every port closed. */
async function expectCleanExit(run: DemoRun, expectedCode: number): Promise<void> {
  const status = await Promise.race([run.exited, sleep(RUN_TIMEOUT_MS).then(() => undefined)]);
  expect(status, `demo did not exit within ${RUN_TIMEOUT_MS / 1000} s\n${run.output()}`).toEqual({ code: expectedCode, signal: null });
  const started: ProcessRecord[] = run.watch.stop();
  const left = started.filter(isRunning);
  expect(left.map((p) => `${p.pid} ${p.command.slice(0, 120)}`), run.output()).toEqual([]);
  const open: number[] = [];
  for (const port of run.ports) if (await isListening(port)) open.push(port);
  expect(open, run.output()).toEqual([]);
  expect(readState(run.dir), 'stack.json is removed once the stack is stopped').toBeUndefined();
  expect(run.output()).not.toMatch(/still open after the demo/);
}

afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

describe('npm run demo stops everything it started', () => {
  it('returns by itself after --duration, exit code 0', async () => {
    const startedAt = Date.now();
    const run = startDemo(['--duration', '12s', '--rate', '20', '--settle', '3s']);
    await expectCleanExit(run, 0);
    timings.push(`natural end ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
    const output = run.output();
    expect(output).toMatch(/Produced \d+ records/);
    expect(output).toMatch(/sluice stopped in [\d.]+ s \(exit code 0\)/);
    expect(output).toMatch(/stack stopped in/);
    // The demo's pipeline, Kafka, Redis and the three Prometheus were all seen running.
    expect(run.ports.size).toBeGreaterThanOrEqual(7);
  });

  it('on SIGINT (Ctrl-C) while running: stops the pipeline and the stack, exit code 130', async () => {
    const run = startDemo(['--duration', '5m', '--rate', '20']);
    // Signalled once sluice is ready, so its own clean stop is checked too.
    const ready = await eventually(
      async () => {
        const port = telemetryPort(run.output());
        return port !== undefined && (await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false));
      },
      Boolean,
      RUN_TIMEOUT_MS,
    );
    expect(ready, run.output()).toBe(true);
    const signalledAt = Date.now();
    run.signal('SIGINT');
    await expectCleanExit(run, 130);
    timings.push(`SIGINT → exit ${((Date.now() - signalledAt) / 1000).toFixed(1)} s`);
    expect(run.output()).toMatch(/sluice stopped in [\d.]+ s \(exit code 0\)/);
  });

  it('on SIGTERM while the stack is starting: stops what was spawned, exit code 143', async () => {
    const run = startDemo(['--duration', '5m', '--rate', '20']);
    const spawned = await eventually(async () => readState(run.dir)?.kafka?.pid !== undefined, Boolean, 60_000, 100);
    expect(spawned, run.output()).toBe(true);
    const signalledAt = Date.now();
    run.signal('SIGTERM');
    await expectCleanExit(run, 143);
    timings.push(`SIGTERM during start → exit ${((Date.now() - signalledAt) / 1000).toFixed(1)} s`);
    expect(run.output()).not.toMatch(/Sluice runs/);
    console.log(`[demo-exit] ${timings.join(', ')}`);
  });
});
