/**
 * Receivers a test starts and owns: a Prometheus or a VictoriaMetrics on a
 * fixed loopback port and data dir, which a test can stop and start again
 * (same port, same data) to simulate an outage. test/stack's startPrometheus
 * wipes its data dir and picks a new port on every start, so it cannot.
 *
 * Every process is spawned by test/stack/process.ts (own process group, log
 * file, identified by its data-dir argument) and stopped by pid.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prometheusReady } from '../../stack/prometheus.ts';
import {
  freePort,
  requireBinary,
  spawnService,
  stopProcess,
  waitReadyOrStop,
  withPortRetry,
  type SpawnedService,
} from '../../stack/process.ts';

export interface ReceiverHandle {
  readonly kind: 'prometheus' | 'victoria-metrics';
  readonly port: number;
  /** http://127.0.0.1:port (query API under /api/v1/query) */
  readonly url: string;
  /** Remote-write endpoint. */
  readonly remoteWriteUrl: string;
  readonly logFile: string;
  readonly running: boolean;
  /** SIGTERM (data flushed), port and data dir kept. */
  stop(): Promise<void>;
  /** Starts again on the same port and data dir (no-op if running). */
  start(): Promise<void>;
}

interface ServiceSpec {
  readonly kind: ReceiverHandle['kind'];
  readonly binary: string;
  readonly debianPackage: string;
  readonly args: (port: number, dataDir: string) => string[];
  readonly match: (dataDir: string) => string;
  readonly writePath: string;
  readonly ready: (url: string) => Promise<boolean>;
}

const PROMETHEUS: ServiceSpec = {
  kind: 'prometheus',
  binary: 'prometheus',
  debianPackage: 'prometheus',
  args: (port, dataDir) => [
    `--config.file=${join(dataDir, '..', 'prometheus.yml')}`,
    `--storage.tsdb.path=${dataDir}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-remote-write-receiver',
  ],
  match: (dataDir) => `--storage.tsdb.path=${dataDir} `,
  writePath: '/api/v1/write',
  ready: prometheusReady,
};

const VICTORIA_METRICS: ServiceSpec = {
  kind: 'victoria-metrics',
  binary: 'victoria-metrics',
  debianPackage: 'victoria-metrics',
  args: (port, dataDir) => [
    `-storageDataPath=${dataDir}`,
    `-httpListenAddr=127.0.0.1:${port}`,
    // Instant queries see samples at once (default: only those older than 30 s).
    '-search.latencyOffset=0s',
    // A retried request that did land is a duplicate (same timestamp, same value): keep one.
    '-dedup.minScrapeInterval=1ms',
    '-search.disableCache',
    '-loggerLevel=WARN',
  ],
  match: (dataDir) => `-storageDataPath=${dataDir} `,
  writePath: '/api/v1/write',
  ready: async (url) => {
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      return res.status === 200;
    } catch {
      return false;
    }
  },
};

export function startPrometheusReceiver(dir: string): Promise<ReceiverHandle> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1m\n');
  return startReceiver(PROMETHEUS, dir);
}

export function startVictoriaMetrics(dir: string): Promise<ReceiverHandle> {
  mkdirSync(dir, { recursive: true });
  return startReceiver(VICTORIA_METRICS, dir);
}

async function startReceiver(spec: ServiceSpec, dir: string): Promise<ReceiverHandle> {
  const bin = requireBinary(spec.binary, spec.debianPackage);
  const dataDir = join(dir, 'data');
  const logFile = join(dir, `${spec.kind}.log`);
  const match = spec.match(dataDir);
  let service: SpawnedService | undefined;
  let port = 0;

  const launch = async (): Promise<void> => {
    const next = spawnService(bin, spec.args(port, dataDir), { logFile, cwd: dir });
    await waitReadyOrStop(`${spec.kind} on 127.0.0.1:${port}`, next, match, () => spec.ready(`http://127.0.0.1:${port}`), 60_000);
    service = next;
  };
  await withPortRetry(async () => {
    port = await freePort();
    await launch();
  });

  return {
    kind: spec.kind,
    port,
    url: `http://127.0.0.1:${port}`,
    remoteWriteUrl: `http://127.0.0.1:${port}${spec.writePath}`,
    logFile,
    get running() {
      return service !== undefined;
    },
    async stop() {
      const current = service;
      service = undefined;
      if (current !== undefined) await stopProcess(current.pid, match, 10_000, current);
    },
    async start() {
      if (service === undefined) await launch();
    },
  };
}
