/**
 * A Prometheus 3.x with its OTLP receiver on, on a free loopback port, for the OTLP sink tests.
 * The binary is built once per machine from Prometheus' Go module and cached outside the
 * repository (~/.cache/sluice/prometheus-v0.316.0/prometheus). To be swapped for test/stack's
 * reusable Prometheus 3.x starter once it lands.
 *
 * Its OTLP translation is pinned to UnderscoreEscapingWithSuffixes (the 3.x default), so names
 * are predictable: a monotonic Sum gets `_total`, a unit its suffix (`s` → `_seconds`, `By` → `_bytes`).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { prometheusReady } from '../../stack/prometheus.ts';
import { freePort, spawnService, stopProcess, waitReadyOrStop, withPortRetry, type SpawnedService } from '../../stack/process.ts';

export const PROMETHEUS3_BINARY = join(homedir(), '.cache', 'sluice', 'prometheus-v0.316.0', 'prometheus');

export interface Prometheus3Handle {
  /** http://127.0.0.1:port (query API under /api/v1/query) */
  readonly url: string;
  /** Base URL of the OTLP receiver: the OTLP sink's `endpoint` (it appends /v1/metrics). */
  readonly otlpEndpoint: string;
  readonly logFile: string;
  stop(): Promise<void>;
}

export async function startPrometheus3(dir: string): Promise<Prometheus3Handle> {
  if (!existsSync(PROMETHEUS3_BINARY)) {
    throw new Error(`Prometheus 3.x is not built at ${PROMETHEUS3_BINARY}: go install github.com/prometheus/prometheus/cmd/prometheus@v0.316.0`);
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1m\notlp:\n  translation_strategy: UnderscoreEscapingWithSuffixes\n');
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'prometheus3.log');
  const match = `--storage.tsdb.path=${dataDir} `;
  let service: SpawnedService | undefined;
  let port = 0;
  await withPortRetry(async () => {
    port = await freePort();
    const next = spawnService(
      PROMETHEUS3_BINARY,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${dataDir}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--web.enable-otlp-receiver',
      ],
      { logFile, cwd: dir },
    );
    await waitReadyOrStop(`prometheus 3 on 127.0.0.1:${port}`, next, match, () => prometheusReady(`http://127.0.0.1:${port}`), 60_000);
    service = next;
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    otlpEndpoint: `${url}/api/v1/otlp`,
    logFile,
    async stop() {
      const current = service;
      service = undefined;
      if (current !== undefined) await stopProcess(current.pid, match, 10_000, current);
    },
  };
}
