import type { Command } from 'commander';
import { TAP_POINTS } from '../telemetry/tap/hub.ts';
import { DEFAULT_TAP_LIMIT, DEFAULT_TAP_RATE } from '../telemetry/tap/endpoint.ts';
import { DEFAULT_TELEMETRY_URL } from './top.ts';

/**
 * `sluice tap <pipeline>`: prints sampled, redacted events of a running instance, one JSON line
 * each, from its telemetry port's /tap stream. Exits 0 after `--limit` events (or Ctrl-C), 2 when
 * the instance refuses the request (unknown pipeline, bad option), 1 when it cannot be reached.
 */
export function registerTap(program: Command): void {
  program
    .command('tap')
    .description('Print live sampled records or samples of a running pipeline (content fields and secrets redacted), one JSON line each.')
    .argument('<pipeline>', 'pipeline name')
    .option('--at <point>', `where to tap: ${TAP_POINTS.join(' | ')}`, 'transform')
    .option('--tenant <tenant>', 'only this tenant (at transform, partials, samples)')
    .option('--limit <n>', 'stop after this many events', String(DEFAULT_TAP_LIMIT))
    .option('--rate <n>', 'at most this many events per second', String(DEFAULT_TAP_RATE))
    .option('--url <url>', 'telemetry URL of the instance', DEFAULT_TELEMETRY_URL)
    .action(async (pipeline: string, options: { at: string; tenant?: string; limit: string; rate: string; url: string }) => {
      process.exitCode = await tapCommand(pipeline, options);
    });
}

export async function tapCommand(pipeline: string, options: { at: string; tenant?: string; limit: string; rate: string; url: string }): Promise<number> {
  const params = new URLSearchParams({ pipeline, at: options.at, limit: options.limit, rate: options.rate });
  if (options.tenant !== undefined) params.set('tenant', options.tenant);
  const url = `${options.url.replace(/\/+$/, '')}/tap?${params}`;
  const stop = new AbortController();
  const quit = () => stop.abort();
  process.once('SIGINT', quit);
  try {
    const response = await fetch(url, { signal: stop.signal });
    if (!response.ok || !response.body) {
      process.stderr.write(`sluice tap: ${(await response.text()).trim() || `HTTP ${response.status}`}\n`);
      return 2;
    }
    for await (const chunk of response.body) process.stdout.write(chunk);
    return 0;
  } catch (error) {
    if (stop.signal.aborted) return 0;
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    process.stderr.write(`sluice tap: cannot read ${options.url}: ${cause ?? (error as Error).message}\n`);
    return 1;
  } finally {
    process.off('SIGINT', quit);
  }
}
