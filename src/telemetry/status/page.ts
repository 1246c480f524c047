import type { PipelineStatus, StatusSnapshot, TenantStatus } from './snapshot.ts';
import { RECENT_S } from './snapshot.ts';
import { formatRate, formatCount, formatSeconds } from './format.ts';

/** The status page reloads itself this often (`/status?refresh=N`, 0 for never): a meta refresh, so it needs no script at all. */
export const REFRESH_S = 2;
const MAX_REFRESH_S = 3600;

/** The refresh period a `refresh` query parameter asks for: whole seconds, 0 (never) to an hour; else the default. */
export function refreshSeconds(param: string | null): number {
  const value = Number(param ?? Number.NaN);
  return Number.isInteger(value) && value >= 0 && value <= MAX_REFRESH_S ? value : REFRESH_S;
}

/** Text for HTML element content and quoted attributes. Tenant ids and reasons come from config and data. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * The status page (issue 13 item 5): server-rendered HTML with inline CSS, no script, no
 * external assets. Every value from config or data goes through escapeHtml.
 */
export function renderStatusPage(status: StatusSnapshot, refreshS: number = REFRESH_S): string {
  const e = escapeHtml;
  const refresh = refreshS > 0 ? `<meta http-equiv="refresh" content="${refreshS}">` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
${refresh}
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sluice status</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>Sluice status</h1><p>config <code id="config-hash">${e(status.config_hash)}</code> · up ${e(formatSeconds(status.uptime_s))} · at ${e(status.at)} · ${refreshS > 0 ? `refreshes every ${refreshS} s` : 'not refreshing'}</p></header>
${status.pipelines.map((p) => pipelineSection(p, status.tenants)).join('\n')}
<section><h2>Tenants</h2>
<table id="tenants"><thead><tr><th>tenant</th><th>pipelines</th><th>samples/s in</th><th>sent/s</th><th>sent</th><th>backlog</th><th>failed/s</th><th>last error</th><th>overflow/s</th><th>active series</th></tr></thead>
<tbody>
${status.tenants.map(tenantRow).join('\n') || '<tr><td colspan="10">no tenants</td></tr>'}
</tbody></table>
</section>
</body>
</html>
`;
}

function pipelineSection(p: PipelineStatus, tenants: readonly TenantStatus[]): string {
  const e = escapeHtml;
  const own = tenants.filter((t) => t.pipelines.includes(p.name));
  const s1 = p.stage1;
  const s2 = p.stage2;
  const node = (title: string, lines: readonly string[], cls = '') => `<div class="node ${cls}"><h3>${e(title)}</h3>${lines.map((l) => `<div>${l}</div>`).join('')}</div>`;
  const arrow = '<div class="arrow" aria-hidden="true">&rarr;</div>';
  const graph = [
    node('sources', [...p.sources.map((t) => `<code>${e(t)}</code>`), `codec ${e(p.codec)}`], 'source'),
    node('stage 1', [`${e(formatRate(s1.records_in_per_s))} records/s`, `lag ${e(formatCount(s1.consumer_lag))}`, `dead letters ${e(formatRate(s1.dead_letters_per_s))}/s`, `filtered ${e(formatRate(s1.filtered_per_s))}/s`], 'stage'),
    node('partials topic', [`<code>${e(p.partials_topic)}</code>`, `${p.partials_partitions} partitions`], 'topic'),
    node('stage 2', [`watermark ${e(s2.watermark ?? 'none yet')}`, `delay ${e(s2.watermark_delay_s === null ? '-' : formatSeconds(s2.watermark_delay_s))}`, `${e(formatCount(s2.active_series))} series`, `${s2.paused_partitions} paused`], 'stage'),
    node('tenants', own.length > 0 ? own.map((t) => `${e(t.tenant)} <span class="muted">${e(formatRate(t.samples_sent_per_s))}/s</span>`) : ['none yet'], 'tenant'),
  ].join(arrow);
  const reasons = p.dead_letters
    .map((d) => `<tr><td>${e(d.reason)}</td><td class="n">${e(formatCount(d.recent))}</td><td class="n">${e(formatRate(d.per_s))}</td><td class="n">${e(formatCount(d.total))}</td></tr>`)
    .join('\n');
  return `<section class="pipeline" data-pipeline="${e(p.name)}">
<h2>Pipeline <span class="name">${e(p.name)}</span> <small>config <code>${e(p.config_hash)}</code> · ${e(p.file)}</small></h2>
<div class="graph">${graph}</div>
<table class="stages"><thead><tr><th>stage</th><th>records/s</th><th>total</th><th>lag</th><th>watermark</th><th>delay</th><th>checkpoints/s</th><th>late partials</th></tr></thead><tbody>
<tr><td>stage 1</td><td class="n">${e(formatRate(s1.records_in_per_s))}</td><td class="n">${e(formatCount(s1.records_in_total))}</td><td class="n">${e(formatCount(s1.consumer_lag))}</td><td>-</td><td>-</td><td>-</td><td>-</td></tr>
<tr><td>stage 2</td><td>-</td><td>-</td><td>-</td><td>${e(s2.watermark ?? '-')}</td><td class="n">${e(s2.watermark_delay_s === null ? '-' : formatSeconds(s2.watermark_delay_s))}</td><td class="n">${e(formatRate(s2.checkpoints_per_s))}</td><td class="n">${e(formatCount(s2.late_partials_total))}</td></tr>
</tbody></table>
<h3>Dead letters <small>to <code>${e(p.dead_letter_topic)}</code></small></h3>
<table class="dead-letters"><thead><tr><th>reason</th><th>last ${RECENT_S / 60} min</th><th>per s</th><th>since start</th></tr></thead><tbody>
${reasons || '<tr><td colspan="4">none</td></tr>'}
</tbody></table>
</section>`;
}

function tenantRow(t: TenantStatus): string {
  const e = escapeHtml;
  const error = t.last_error ? `${e(t.last_error.reason)} <span class="muted">${e(t.last_error.at)}</span>` : '-';
  const flags = t.blocked ? ' <span class="bad">blocked</span>' : '';
  return `<tr><td>${e(t.tenant)}${flags}</td><td>${e(t.pipelines.join(', '))}</td><td class="n">${e(formatRate(t.samples_in_per_s))}</td><td class="n">${e(formatRate(t.samples_sent_per_s))}</td><td class="n">${e(formatCount(t.samples_sent_total))}</td><td class="n">${e(formatCount(t.backlog))}</td><td class="n">${e(formatRate(t.failed_per_s))}</td><td>${error}</td><td class="n">${e(formatRate(t.overflow_per_s))}</td><td class="n">${e(formatCount(t.active_series))}</td></tr>`;
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1d2430;background:#fafbfc}
h1{margin:0}header p{color:#5a6472;margin:.2em 0 1em}
h2{margin:1.2em 0 .4em}h2 small,h3 small{font-weight:normal;color:#5a6472}
code{font:12px ui-monospace,monospace;background:#eef1f5;padding:0 .25em;border-radius:3px}
.graph{display:flex;align-items:stretch;flex-wrap:wrap;gap:.3em;margin:.5em 0 1em}
.node{border:1px solid #c5cdd8;border-radius:6px;padding:.5em .7em;background:#fff;min-width:9em}
.node h3{margin:0 0 .3em;font-size:13px;text-transform:uppercase;letter-spacing:.04em;color:#3b6ea8}
.node.tenant h3{color:#2e7d4f}.node.topic h3{color:#8a5a00}
.arrow{align-self:center;font-size:22px;color:#8994a3}
table{border-collapse:collapse;margin:.3em 0 1em;background:#fff}
th,td{border:1px solid #dde3ea;padding:.25em .6em;text-align:left}th{background:#eef1f5;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#7a8492}.bad{color:#b3261e;font-weight:600}
`;
