import type { StatusSnapshot } from '../telemetry/status/snapshot.ts';
import { formatCount, formatRate, formatSeconds } from '../telemetry/status/format.ts';

/**
 * One frame of `sluice top`, as plain lines of at most `width` characters (ANSI styling is added
 * by the caller, outside the width): per pipeline records/s in, dead letters/s by reason,
 * consumer lag, watermark delay and active series; per tenant samples/s out, backlog, overflow/s
 * and the last error.
 */
export function renderTopLines(status: StatusSnapshot, source: string, width = 80): { lines: string[]; headers: Set<number> } {
  const lines: string[] = [];
  const headers = new Set<number>();
  const header = (text: string) => {
    headers.add(lines.length);
    lines.push(text);
  };
  lines.push(`sluice top  ${source}  config ${status.config_hash}  up ${formatSeconds(status.uptime_s)}  ${status.at.slice(11, 19)}`);
  lines.push('');
  header(row([['PIPELINE', -22], ['IN/s', 9], ['DLQ/s', 8], ['LAG', 8], ['WM DELAY', 9], ['SERIES', 8], ['PAUSED', 7]]));
  for (const p of status.pipelines) {
    lines.push(
      row([
        [p.name, -22],
        [formatRate(p.stage1.records_in_per_s), 9],
        [formatRate(p.stage1.dead_letters_per_s), 8],
        [formatCount(p.stage1.consumer_lag), 8],
        [p.stage2.watermark_delay_s === null ? '-' : formatSeconds(p.stage2.watermark_delay_s), 9],
        [formatCount(p.stage2.active_series), 8],
        [String(p.stage2.paused_partitions), 7],
      ]),
    );
    const reasons = p.dead_letters.filter((d) => d.per_s > 0 || d.recent > 0);
    if (reasons.length > 0) lines.push(`  dead letters/s: ${reasons.map((d) => `${d.reason} ${formatRate(d.per_s)}`).join(', ')}`);
  }
  lines.push('');
  header(row([['TENANT', -22], ['OUT/s', 9], ['BACKLOG', 8], ['OVERFL/s', 9], ['SERIES', 8], [' LAST ERROR', -21]]));
  for (const t of status.tenants) {
    const error = t.last_error ? `${t.last_error.reason} ${formatSeconds((Date.parse(status.at) - Date.parse(t.last_error.at)) / 1000)} ago` : '-';
    lines.push(
      row([
        [t.tenant + (t.blocked ? ' [blocked]' : ''), -22],
        [formatRate(t.samples_sent_per_s), 9],
        [formatCount(t.backlog), 8],
        [formatRate(t.overflow_per_s), 9],
        [formatCount(t.active_series), 8],
        [` ${error}`, -21],
      ]),
    );
  }
  if (status.tenants.length === 0) lines.push('  (no tenants yet)');
  return { lines: lines.map((line) => fit(line, width)), headers };
}

/** Columns of [text, width]: a positive width right-aligns (numbers), a negative one left-aligns (names). */
function row(columns: readonly (readonly [string, number])[]): string {
  return columns
    .map(([text, width]) => {
      const size = Math.abs(width);
      const cut = fit(text, size - (width < 0 ? 1 : 0));
      return width < 0 ? cut.padEnd(size) : cut.padStart(size);
    })
    .join('')
    .trimEnd();
}

/** Cuts to `width` characters (code points; ids are printable), marking the cut with `~`. */
function fit(text: string, width: number): string {
  // Control characters in an id must not move the cursor of the operator's terminal.
  const clean = [...text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')];
  return clean.length <= width ? clean.join('') : `${clean.slice(0, Math.max(0, width - 1)).join('')}~`;
}
