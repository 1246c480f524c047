// Starts one Prometheus per tenant as a remote-write *receiver*: no scrape
// jobs, just a TSDB that Sluice writes into and tests query. One instance
// per tenant makes tenant isolation directly observable (a series that
// lands in the wrong instance is a bug), as it would be with separate
// per-tenant backends in production.

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  freePort,
  requireBinary,
  spawnService,
  stopProcess,
  waitReadyOrStop,
  withPortRetry,
} from './process.ts';
import type { TenantPrometheus } from './types.ts';

export interface PrometheusOptions {
  tenant: string;
  /** Config and TSDB (`<dir>/data`, wiped on start). */
  dir: string;
  logFile: string;
  onSpawn?: (info: { pid: number; match: string; port: number; dataDir: string }) => void;
  log?: (line: string) => void;
  timeoutMs?: number;
  /** The binary (default: `prometheus` on PATH, Debian's 2.42). */
  binary?: string;
  /** Flags after the common ones (receivers, feature flags). */
  extraArgs?: readonly string[];
}

export interface PrometheusHandle extends TenantPrometheus {
  pid: number;
  dataDir: string;
  /** Substring of the command line that identifies this instance (see process.ts). */
  match: string;
  stop(): Promise<void>;
}

// No scrape_configs: the instance only receives remote writes.
const PROMETHEUS_YML = `global:
  scrape_interval: 1m
  evaluation_interval: 1m
`;

export function tenantPrometheus(tenant: string, port: number, logFile: string): TenantPrometheus {
  const url = `http://127.0.0.1:${port}`;
  return { tenant, port, url, remoteWriteUrl: `${url}/api/v1/write`, logFile };
}

export async function startPrometheus(opts: PrometheusOptions): Promise<PrometheusHandle> {
  const bin = opts.binary ?? requireBinary('prometheus', 'prometheus');
  const log = opts.log ?? (() => {});
  mkdirSync(opts.dir, { recursive: true });
  const configFile = join(opts.dir, 'prometheus.yml');
  const dataDir = join(opts.dir, 'data');
  writeFileSync(configFile, PROMETHEUS_YML);
  const dataArg = `--storage.tsdb.path=${dataDir}`;
  const match = `${dataArg} `; // the whole argument (see isProcessAlive)

  return withPortRetry(async () => {
    const port = await freePort();
    rmSync(dataDir, { recursive: true, force: true });
    const started = Date.now();
    const service = spawnService(
      bin,
      [
        `--config.file=${configFile}`,
        dataArg,
        `--web.listen-address=127.0.0.1:${port}`,
        '--web.enable-remote-write-receiver',
        ...(opts.extraArgs ?? []),
      ],
      { logFile: opts.logFile, cwd: opts.dir },
    );
    opts.onSpawn?.({ pid: service.pid, match, port, dataDir });
    const info = tenantPrometheus(opts.tenant, port, opts.logFile);
    await waitReadyOrStop(
      `prometheus for tenant ${opts.tenant} (${info.url})`,
      service,
      match,
      () => prometheusReady(info.url),
      opts.timeoutMs ?? 60_000,
    );
    log(`prometheus[${opts.tenant}]: ready on ${info.url} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return {
      ...info,
      pid: service.pid,
      dataDir,
      match,
      stop: () => stopProcess(service.pid, match, 10_000, service),
    };
  });
}

/** Ready = GET /-/ready answers 200 (TSDB opened, web handler serving). */
export async function prometheusReady(baseUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl}/-/ready`, { signal: AbortSignal.timeout(1_000) });
    await res.arrayBuffer(); // drain so the connection is released
    return res.status === 200;
  } catch {
    return false;
  }
}
