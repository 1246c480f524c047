// Starts redis-server on a free loopback port with AOF persistence. The
// handle can stop() and start() Redis again on the same port and data dir:
// tests use that to simulate a Redis outage and a restart with its state.

import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import {
  freePort,
  isProcessAlive,
  requireBinary,
  spawnService,
  stopProcess,
  waitReadyOrStop,
  withPortRetry,
  type SpawnedService,
} from './process.ts';

export interface RedisOptions {
  /** Data dir (AOF lives here); kept across stop()/start(). */
  dir: string;
  logFile: string;
  /** Fixed port; default: a free one. */
  port?: number;
  /** Called after every spawn (initial and each start()), so callers can record the pid. */
  onSpawn?: (info: { pid: number; match: string; port: number }) => void;
  log?: (line: string) => void;
  timeoutMs?: number;
}

export interface RedisHandle {
  port: number;
  url: string;
  dir: string;
  logFile: string;
  /** pid of the current redis-server, or undefined while stopped. */
  readonly pid: number | undefined;
  match: string;
  stop(): Promise<void>;
  /** Start again on the same port and dir (no-op if running). */
  start(): Promise<void>;
}

function redisArgs(port: number, dir: string): string[] {
  return [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    // no RDB snapshots; AOF so a stop/start keeps the data
    '--save', '',
    '--appendonly', 'yes',
    '--daemonize', 'no',
    '--logfile', '', // stdout, i.e. our log file
    // keep argv intact: stopProcess identifies our redis by the --dir path in
    // /proc/<pid>/cmdline, which redis would otherwise overwrite
    '--set-proc-title', 'no',
  ];
}

export async function startRedis(opts: RedisOptions): Promise<RedisHandle> {
  if (opts.port !== undefined) {
    const handle = redisHandle({ ...opts, port: opts.port });
    await handle.start();
    return handle;
  }
  return withPortRetry(async () => {
    const handle = redisHandle({ ...opts, port: await freePort() });
    await handle.start();
    return handle;
  });
}

/**
 * A handle for a Redis on a known port and dir, optionally already running
 * as `pid` (a stack reused from stack.json): stop()/start() work the same
 * whether or not this process spawned it.
 */
export function redisHandle(opts: RedisOptions & { port: number; pid?: number }): RedisHandle {
  const log = opts.log ?? (() => {});
  const { port, dir } = opts;
  const match = `--dir ${dir} `; // trailing space: the whole argument, not a prefix of a longer path
  let current: { pid: number; service?: SpawnedService } | undefined =
    opts.pid !== undefined ? { pid: opts.pid } : undefined;

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    logFile: opts.logFile,
    get pid() {
      return current?.pid;
    },
    match,
    async stop() {
      if (!current) return;
      const { pid, service } = current;
      current = undefined;
      await stopProcess(pid, match, 10_000, service);
    },
    async start() {
      if (current && isProcessAlive(current.pid, match)) return;
      const bin = requireBinary('redis-server', 'redis-server');
      mkdirSync(dir, { recursive: true });
      const started = Date.now();
      const service = spawnService(bin, redisArgs(port, dir), { logFile: opts.logFile, cwd: dir });
      opts.onSpawn?.({ pid: service.pid, match, port });
      await waitReadyOrStop(`redis-server (127.0.0.1:${port})`, service, match, () => redisReady(port), opts.timeoutMs ?? 30_000);
      current = { pid: service.pid, service };
      log(`redis: ready on 127.0.0.1:${port} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    },
  };
}

/** Ready = PING answers +PONG (not -LOADING while the AOF is replayed). */
export function redisReady(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
