import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, requireBinary, spawnService, stopProcess, waitReadyOrStop } from '../../stack/process.ts';
import { prometheusReady } from '../../stack/prometheus.ts';

export interface ScrapingPrometheus {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * A real Prometheus on a free loopback port that scrapes one target every second (Sluice's own
 * /metrics, for the Sluice-health dashboard's queries), as docker-compose's `prometheus-sluice`
 * does every 5 s. Stopped by the caller.
 */
export async function startScrapingPrometheus(dir: string, target: URL): Promise<ScrapingPrometheus> {
  const bin = requireBinary('prometheus', 'prometheus');
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: sluice\n    metrics_path: ${target.pathname}\n    static_configs:\n      - targets: ['${target.host}']\n`,
  );
  const port = await freePort();
  const dataArg = `--storage.tsdb.path=${join(dir, 'data')}`;
  const service = spawnService(bin, [`--config.file=${config}`, dataArg, `--web.listen-address=127.0.0.1:${port}`], { logFile: join(dir, 'prometheus.log'), cwd: dir });
  const url = `http://127.0.0.1:${port}`;
  await waitReadyOrStop(`scraping prometheus (${url})`, service, dataArg, () => prometheusReady(url), 60_000);
  return { url, stop: () => stopProcess(service.pid, dataArg, 10_000, service) };
}
