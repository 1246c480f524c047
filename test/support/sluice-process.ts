import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, sleep } from './kafka-io.ts';

/**
 * `sluice run` as a child process, the way an operator or Kubernetes runs it: its own log file,
 * its telemetry URL read from its "sluice running" log line, signals, and a timed exit.
 */

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(REPO_ROOT, 'src/cli/bin.js');

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class SluiceProcess {
  telemetryUrl = '';
  private exitStatus: ExitStatus | undefined;
  readonly exited: Promise<ExitStatus>;

  private constructor(
    private readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve((this.exitStatus = { code, signal })));
      child.once('error', () => resolve((this.exitStatus = { code: null, signal: null })));
    });
  }

  /** Spawns `sluice run <pipelineFile>` with `env` on top of this process's environment (minus vitest's). */
  static spawn(pipelineFile: string, env: Record<string, string>, logFile: string): SluiceProcess {
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_OPTIONS'));
    const fd = openSync(logFile, 'w');
    try {
      const child = spawn(process.execPath, [BIN, 'run', pipelineFile], { cwd: REPO_ROOT, env: { ...inherited, ...env }, stdio: ['ignore', fd, fd] });
      return new SluiceProcess(child, logFile);
    } finally {
      closeSync(fd);
    }
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Waits for the telemetry URL in the log, then for /readyz to answer 200 (both stages own their partitions). */
  async ready(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exitStatus) throw new Error(`sluice exited during start (${JSON.stringify(this.exitStatus)})\n${this.tail()}`);
      // From the "sluice running" line.
      this.telemetryUrl ||= /"telemetry":"(http:\/\/[^"]+)"/.exec(this.log())?.[1] ?? '';
      if (this.telemetryUrl && (await fetch(`${this.telemetryUrl}/readyz`).then((r) => r.ok, () => false))) return;
      await sleep(200);
    }
    throw new Error(`sluice not ready within ${timeoutMs / 1000} s\n${this.tail()}`);
  }

  /** The sum of a metric's series whose label set contains every `labels` pair. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = await (await fetch(`${this.telemetryUrl}/metrics`)).text();
    const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
    let sum = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      const labelText = line.slice(name.length, line.lastIndexOf(' '));
      if (wanted.every((pair) => labelText.includes(pair))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return sum;
  }

  /** Polls a metric until `done` holds (or `timeoutMs` passes); returns the last value. */
  metricUntil(name: string, labels: Record<string, string>, done: (value: number) => boolean, timeoutMs = 60_000): Promise<number> {
    return eventually(() => this.metric(name, labels), done, timeoutMs, 250);
  }

  /**
   * Sends `signal` and waits up to `timeoutMs` for the exit; returns the status and the time from
   * the signal to the exit (undefined status when it did not exit; it is then SIGKILLed).
   */
  async stopWith(signal: NodeJS.Signals, timeoutMs: number): Promise<{ status: ExitStatus | undefined; ms: number }> {
    const sent = performance.now();
    this.child.kill(signal);
    const status = await Promise.race([this.exited, sleep(timeoutMs).then(() => undefined)]);
    const ms = Math.round(performance.now() - sent);
    if (!status) await this.kill();
    return { status, ms };
  }

  /** SIGKILL, for cleanup after a failure; no-op once exited. */
  async kill(): Promise<void> {
    if (this.exitStatus) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  tail(lines = 30): string {
    return `--- ${this.logFile} (last ${lines} lines)\n${this.log().replace(/\n$/, '').split('\n').slice(-lines).join('\n')}`;
  }
}
