// Prometheus 3.x for the tests that need what Debian's 2.42 lacks: the remote-write 2.0 receiver
// and the OTLP receiver. Debian ships no 3.x, so it is built once per machine from its Go module
// (`go install github.com/prometheus/prometheus/cmd/prometheus@v0.316.0`, about 6 minutes) into
// the cache outside the repository, as the Kafka jars are. .ci/run builds it before the tests; a
// test that finds it missing builds it too, and fails (never skips) when it cannot.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sluiceCacheDir } from './kafka-jars.ts';
import { findOnPath } from './process.ts';
import { startPrometheus } from './prometheus.ts';
import type { PrometheusHandle } from './prometheus.ts';

/** The Go module version; Prometheus 3.x releases are v0.3xx.y of github.com/prometheus/prometheus. */
export const PROMETHEUS3_MODULE_VERSION = 'v0.316.0';

export function prometheus3Binary(): string {
  return join(sluiceCacheDir(), `prometheus-${PROMETHEUS3_MODULE_VERSION}`, 'prometheus');
}

/** The cached binary, built first if missing. Throws (with go's output) when it cannot be built. */
export function ensurePrometheus3(log: (line: string) => void = () => {}): string {
  const binary = prometheus3Binary();
  if (existsSync(binary)) return binary;
  const go = findOnPath('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (go === undefined) throw new Error(`Prometheus 3.x is not at ${binary} and there is no Go toolchain to build it (install golang)`);
  // Build into a scratch directory and move into place, so a cut-short build never leaves a half binary.
  const gobin = join(sluiceCacheDir(), `prometheus-${PROMETHEUS3_MODULE_VERSION}.partial`);
  rmSync(gobin, { recursive: true, force: true });
  mkdirSync(gobin, { recursive: true });
  log(`prometheus3: building github.com/prometheus/prometheus/cmd/prometheus@${PROMETHEUS3_MODULE_VERSION} (several minutes, once per machine)`);
  execFileSync(go, ['install', `github.com/prometheus/prometheus/cmd/prometheus@${PROMETHEUS3_MODULE_VERSION}`], {
    env: { ...process.env, GOBIN: gobin, CGO_ENABLED: '0' },
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 30 * 60_000,
  });
  mkdirSync(join(binary, '..'), { recursive: true });
  execFileSync('mv', [join(gobin, 'prometheus'), binary]);
  rmSync(gobin, { recursive: true, force: true });
  return binary;
}

export interface Prometheus3Options {
  /** Also accept OTLP metrics at /api/v1/otlp/v1/metrics. */
  readonly otlp?: boolean;
  /** Accept remote-write 2.0 beside 1.0 (default true); false makes a 1.0-only receiver. */
  readonly remoteWrite2?: boolean;
  /** `--enable-feature` names, e.g. created-timestamp-zero-ingestion, type-and-unit-labels. */
  readonly features?: readonly string[];
  /** Working directory (config, TSDB, log); default a fresh temporary one, removed on stop. */
  readonly dir?: string;
  readonly log?: (line: string) => void;
}

/**
 * Starts a Prometheus 3.x on a free loopback port as a receiver. The caller stops it
 * (`handle.stop()`); its directory is removed then when it was a temporary one.
 */
export async function startPrometheus3(options: Prometheus3Options = {}): Promise<PrometheusHandle> {
  const binary = ensurePrometheus3(options.log);
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'sluice-prom3-'));
  // The flag repeats, one message type each (a comma-separated list is refused).
  const extraArgs = ['--web.remote-write-receiver.accepted-protobuf-messages=prometheus.WriteRequest'];
  if (options.remoteWrite2 !== false) extraArgs.push('--web.remote-write-receiver.accepted-protobuf-messages=io.prometheus.write.v2.Request');
  if (options.otlp === true) extraArgs.push('--web.enable-otlp-receiver');
  if (options.features !== undefined && options.features.length > 0) extraArgs.push(`--enable-feature=${options.features.join(',')}`);
  const handle = await startPrometheus({
    tenant: 'prometheus3',
    dir,
    logFile: join(dir, 'prometheus.log'),
    binary,
    extraArgs,
    log: options.log,
  });
  if (options.dir !== undefined) return handle;
  return {
    ...handle,
    stop: async () => {
      await handle.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
