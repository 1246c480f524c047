import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { StatusSnapshot } from '../telemetry/status/snapshot.ts';
import { renderTopLines } from './top-screen.ts';

export const DEFAULT_TELEMETRY_URL = 'http://127.0.0.1:9464';

const HOME = '\x1b[H';
const CLEAR_SCREEN = '\x1b[2J';
const CLEAR_LINE = '\x1b[K';
const CLEAR_BELOW = '\x1b[J';
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';
const BOLD = '\x1b[1m';
const RESET = '\x1b[0m';

/**
 * `sluice top [--url URL]`: a running instance's /status.json, redrawn each second. Plain ANSI
 * (home, clear line, bold), no mouse and no alternate screen, at most 80 columns: it works over
 * SSH and in tmux. `q` or Ctrl-C quits.
 */
export function registerTop(program: Command): void {
  program
    .command('top')
    .description('Live view of a running instance: per pipeline rates, dead letters, lag, watermark delay; per tenant delivery and backlog.')
    .option('--url <url>', 'telemetry URL of the instance', DEFAULT_TELEMETRY_URL)
    .option('--interval <seconds>', 'seconds between refreshes', '1')
    .option('--once', 'print one frame without ANSI codes and exit (for scripts)')
    .action(async (options: { url: string; interval: string; once?: boolean }) => {
      process.exitCode = await topCommand(options.url, Number(options.interval) * 1000, options.once ?? false);
    });
}

export async function topCommand(url: string, intervalMs: number, once: boolean): Promise<number> {
  const base = url.replace(/\/+$/, '');
  if (once) {
    const status = await fetchStatus(base);
    if (typeof status === 'string') {
      process.stderr.write(`sluice top: ${status}\n`);
      return 1;
    }
    process.stdout.write(`${renderTopLines(status, base, process.stdout.columns || 80).lines.join('\n')}\n`);
    return 0;
  }
  const stop = new AbortController();
  const quit = () => stop.abort();
  process.once('SIGINT', quit);
  process.once('SIGTERM', quit);
  const input = process.stdin;
  if (input.isTTY) {
    input.setRawMode(true);
    input.resume();
    input.on('data', (key: Buffer) => {
      // q, Q, Ctrl-C (raw mode delivers it as a byte, not a signal)
      if (key.includes(0x71) || key.includes(0x51) || key.includes(0x03)) quit();
    });
  }
  process.stdout.write(HIDE_CURSOR + CLEAR_SCREEN);
  try {
    while (!stop.signal.aborted) {
      const status = await fetchStatus(base);
      process.stdout.write(frame(status, base));
      await sleep(Math.max(200, intervalMs || 1000), undefined, { signal: stop.signal }).catch(() => {});
    }
  } finally {
    process.stdout.write(`${RESET}${SHOW_CURSOR}\n`);
    if (input.isTTY) {
      input.setRawMode(false);
      input.pause();
    }
    process.off('SIGINT', quit);
    process.off('SIGTERM', quit);
  }
  return 0;
}

function frame(status: StatusSnapshot | string, base: string): string {
  const width = Math.min(process.stdout.columns || 80, 200);
  const height = process.stdout.rows || 24;
  let lines: string[];
  let headers = new Set<number>();
  if (typeof status === 'string') {
    lines = [`sluice top  ${base}`, '', `cannot read status: ${status}`, 'retrying every second; q quits'].map((l) => l.slice(0, width));
  } else {
    ({ lines, headers } = renderTopLines(status, base, width));
  }
  const shown = lines.slice(0, height - 1).map((line, i) => (headers.has(i) ? `${BOLD}${line}${RESET}` : line));
  return `${HOME}${shown.map((line) => line + CLEAR_LINE).join('\n')}\n${CLEAR_BELOW}`;
}

/** The instance's status, or why it could not be read (a message without a stack). */
async function fetchStatus(base: string): Promise<StatusSnapshot | string> {
  try {
    const response = await fetch(`${base}/status.json`, { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) return `${base}/status.json answered ${response.status}`;
    return (await response.json()) as StatusSnapshot;
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return `${base}/status.json: ${cause ?? (error as Error).message}`;
  }
}
