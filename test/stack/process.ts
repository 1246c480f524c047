// Shared helpers for the local real stack: binary lookup, free ports, and
// spawning / stopping long-running service processes.
//
// Services are spawned *detached* (own process group, stdio to a log file,
// unref'd) so that `cli.ts up` can leave them running after node exits. The
// price is that they outlive a crashed parent, so every caller records the
// pid in stack.json and stops it by pid later. To make stopping by a
// recorded pid safe against pid reuse, each service is identified by a
// "match" string (a path unique to its run dir) that must appear in
// /proc/<pid>/cmdline before we signal it.

import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Thrown when a required executable is missing; names the Debian package to install. */
export class MissingBinaryError extends Error {
  override name = 'MissingBinaryError';
}

/**
 * Absolute path of `name` on PATH, or a MissingBinaryError that tells the
 * reader which Debian package provides it (the stack is meant to run on a
 * plain Debian box / CI image, not inside containers).
 */
export function requireBinary(name: string, debianPackage: string): string {
  const found = findOnPath(name);
  if (found) return found;
  throw new MissingBinaryError(
    `${name} not found on PATH: install the Debian package "${debianPackage}" (apt-get install -y ${debianPackage})`,
  );
}

export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

// Ports handed out recently by this process. Parallel service starts each ask
// for a free port; the OS may hand the same just-closed port to two callers,
// so we never return a port twice within one process.
const handedOut = new Set<number>();

/**
 * Free TCP ports on 127.0.0.1 (listen on port 0, read the port, close).
 * All `count` listeners are held open together so one call never yields
 * duplicates. There is an unavoidable race between close and the service's
 * bind; service starters retry on "address already in use".
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: ReturnType<typeof createServer>[] = [];
  const ports: number[] = [];
  try {
    while (ports.length < count) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('unexpected server address');
      if (handedOut.has(address.port)) continue;
      ports.push(address.port);
    }
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
  for (const p of ports) handedOut.add(p);
  return ports;
}

export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}

export interface SpawnedService {
  pid: number;
  child: ChildProcess;
  /** Resolves with the exit code/signal once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True once `exited` has resolved. */
  hasExited(): boolean;
  logFile: string;
  /** Byte offset of the log file when this process started: its own output starts here. */
  logOffset: number;
}

// Services spawned by this process, by pid: stopProcess waits for node to
// reap them even when it is called with just a pid from stack.json.
const ownChildren = new Map<number, SpawnedService>();

/**
 * Spawn a service detached from this process: new process group (so stop
 * can signal the whole group), stdout+stderr appended to `logFile`, no
 * stdin, and unref'd so node may exit while it runs.
 */
export function spawnService(
  command: string,
  args: string[],
  opts: { logFile: string; cwd?: string; env?: NodeJS.ProcessEnv },
): SpawnedService {
  const logOffset = existsSync(opts.logFile) ? statSync(opts.logFile).size : 0;
  const fd = openSync(opts.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd); // the child has its own copy
  }
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
    child.once('error', () => {
      // spawn failure (e.g. ENOENT): there is no process to wait for
      done = true;
      resolve({ code: null, signal: null });
    });
  });
  child.unref();
  if (child.pid === undefined) {
    throw new Error(`failed to spawn ${command}; see ${opts.logFile}`);
  }
  const service: SpawnedService = { pid: child.pid, child, exited, hasExited: () => done, logFile: opts.logFile, logOffset };
  ownChildren.set(service.pid, service);
  void exited.then(() => ownChildren.delete(service.pid));
  return service;
}

/**
 * Whether `pid` is a live (non-zombie) process whose command line contains
 * `match` (argv joined with single spaces, with a trailing space, so a match
 * ending in a space is a whole-argument match). Without /proc (non-Linux)
 * we can only check that the pid exists.
 */
export function isProcessAlive(pid: number, match?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    // ESRCH: gone. EPERM: exists but is not ours, so certainly not a process we started
    return false;
  }
  if (!existsSync('/proc/self')) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // state is the field after the parenthesised command name
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    if (match === undefined) return true;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    return cmdline.includes(match);
  } catch {
    return false; // vanished between checks
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  // Our services are process-group leaders (detached spawn): signal the
  // group so nothing they may have forked survives. Fall back to the pid.
  try {
    process.kill(-pid, sig);
    return;
  } catch {
    // not a group leader or already gone
  }
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/**
 * Stop a service: SIGTERM, wait up to `graceMs` for it to exit, then
 * SIGKILL and wait again. Does nothing if the pid is not (any longer) the
 * process described by `match`, so a stale stack.json can never make us
 * kill an unrelated process that reused the pid.
 */
export async function stopProcess(
  pid: number,
  match: string | undefined,
  graceMs = 10_000,
  service?: SpawnedService,
): Promise<void> {
  if (isProcessAlive(pid, match)) {
    signal(pid, 'SIGTERM');
    if (!(await waitForExit(pid, graceMs))) {
      signal(pid, 'SIGKILL');
      if (!(await waitForExit(pid, 5_000))) throw new Error(`process ${pid} did not exit after SIGKILL`);
    }
  }
  // If it is our own child, let node reap it (the poll above already treats
  // a zombie as gone) so no <defunct> entry outlives this call.
  const own = service ?? ownChildren.get(pid);
  if (own) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([own.exited, new Promise((resolve) => (timer = setTimeout(resolve, 2_000)))]);
    clearTimeout(timer); // a pending timer would keep node (e.g. vitest) alive
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  // no match here: once signalled, any state but "alive" counts as gone
  while (isProcessAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

/** Last `lines` lines of a text file (optionally only the part after byte `fromOffset`). */
export function tailFile(file: string, lines = 30, fromOffset = 0): string {
  try {
    const text = readFileSync(file).subarray(fromOffset).toString('utf8');
    return text.replace(/\n$/, '').split('\n').slice(-lines).join('\n');
  } catch {
    return `(no log at ${file})`;
  }
}

/** The service exited because its port was taken between freePort() and bind: retry on another port. */
export class PortInUseError extends Error {
  override name = 'PortInUseError';
}

/**
 * Poll `check` until it returns true. Fails fast if the service process has
 * exited (with the log tail, and as PortInUseError when the log says the
 * port was taken), or after `timeoutMs` with the log tail.
 */
export async function waitUntilReady(
  what: string,
  service: SpawnedService,
  check: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (service.hasExited()) {
      const { code, signal: sig } = await service.exited;
      const own = readOwnLog(service);
      const tail = tailFile(service.logFile, 30, service.logOffset);
      const msg = `${what} exited during startup (code ${code}, signal ${sig}); last log lines from ${service.logFile}:\n${tail}`;
      if (/address already in use/i.test(own)) throw new PortInUseError(msg);
      throw new Error(msg);
    }
    let ok = false;
    try {
      ok = await check();
    } catch {
      ok = false;
    }
    if (ok) return;
    if (Date.now() >= deadline) {
      throw new Error(
        `${what} not ready after ${Math.round(timeoutMs / 1000)} s; last log lines from ${service.logFile}:\n` +
          tailFile(service.logFile, 30, service.logOffset),
      );
    }
    await sleep(intervalMs);
  }
}

/** waitUntilReady, but on any failure make sure the half-started process is gone. */
export async function waitReadyOrStop(
  what: string,
  service: SpawnedService,
  match: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  try {
    await waitUntilReady(what, service, check, timeoutMs);
  } catch (err) {
    await stopProcess(service.pid, match, 5_000, service);
    throw err;
  }
}

function readOwnLog(service: SpawnedService): string {
  try {
    return readFileSync(service.logFile).subarray(service.logOffset).toString('utf8');
  } catch {
    return '';
  }
}

/**
 * Run `attempt` with fresh ports, retrying (twice) only when the service
 * lost the race for its port. Any other failure is thrown as is.
 */
export async function withPortRetry<T>(attempt: (try_: number) => Promise<T>, tries = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt(i);
    } catch (err) {
      if (!(err instanceof PortInUseError) || i >= tries) throw err;
    }
  }
}
