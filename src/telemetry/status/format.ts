/** Number formats shared by the status page and `sluice top`: short, fixed-width friendly. */

/** A rate: `0`, `0.25`, `12.5`, `1.2k`, `3.4M`. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return '0';
  if (perSecond < 10) return trimZeros(perSecond.toFixed(2));
  if (perSecond < 1000) return trimZeros(perSecond.toFixed(1));
  return formatCount(perSecond);
}

/** A count: `950`, `12.3k`, `4.5M`, `1.2G`. */
export function formatCount(value: number): string {
  if (!Number.isFinite(value)) return '-';
  const abs = Math.abs(value);
  if (abs < 1000) return String(Math.round(value));
  for (const [unit, scale] of UNITS) if (abs >= scale) return `${trimZeros((value / scale).toFixed(1))}${unit}`;
  return String(Math.round(value));
}
const UNITS: readonly [string, number][] = [['G', 1e9], ['M', 1e6], ['k', 1e3]];

/** A duration: `850ms`, `4.2s`, `3m05s`, `2h10m`. */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '-';
  const sign = seconds < 0 ? '-' : '';
  const s = Math.abs(seconds);
  if (s < 1) return `${sign}${Math.round(s * 1000)}ms`;
  if (s < 60) return `${sign}${trimZeros(s.toFixed(1))}s`;
  if (s < 3600) return `${sign}${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${sign}${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}
