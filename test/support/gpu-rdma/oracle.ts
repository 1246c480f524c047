import type { Scrape } from './traffic.ts';

/**
 * What pipelines/gpu-rdma.yaml must deliver, computed in plain code from the pushes (none of the
 * pipeline's code): per tenant, every series of the pipeline's families with its samples, each
 * [window end ms, value]. 30 s tumbling windows, epoch-aligned; a sample belongs to the window
 * [start, start + 30 s) holding its push time and is stamped with the window end.
 *
 * - passthrough: per relabelled series and window, its newest value;
 * - rollups: per tenant, window and group label, avg / max / sum over the members' (hostname, gpu)
 *   newest sample in the window;
 * - gpu_xid_error_reports_total: cumulative count of samples with an XID > 0, per hostname, gpu, xid;
 * - rdma_*_total: cumulative reset-corrected increase over the members (hostname, device, port) —
 *   a member's first sample adds 0, a rise adds the difference, a drop adds the new value;
 *   rdma_*_per_second: the increase counted at a window end / 30 s.
 * Cumulative series report at every window end from their first window with data through
 * `throughEndMs` (a window without data repeats the total, and its rate is 0).
 */
export const WINDOW_MS = 30_000;

/** Tenant → series id (`name{label="value",...}`, labels sorted) → samples [window end ms, value], by time. */
export type TenantSeries = Map<string, Map<string, [number, number][]>>;

export interface RelabelledSample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
  readonly timeMs: number;
  readonly tenant: string | undefined;
  /** The tenant_key it resolved to (`ns/<namespace>` or `node/<hostname>`). */
  readonly tenantKey: string;
}

const TENANT_MAP: Readonly<Record<string, string>> = {
  'ns/llm-serving': 'acme',
  'ns/training': 'globex',
  'node/gpu-node-17': 'acme',
  'node/gpu-node-18': 'globex',
  'node/ib-node-01': 'initech',
};

const KEEP = /^(?:DCGM_FI_(DEV|PROF)_.+|node_infiniband_.+)$/;

/**
 * The pipeline's decode + relabel + compute + tenant steps, restated: grouping labels override
 * sample labels; keep only DCGM_FI_(DEV|PROF)_* and node_infiniband_*; `hostname` from `Hostname`,
 * else from `instance`, as the node's short name (port and domain dropped); drop Hostname,
 * pci_bus_id, DCGM_FI_DRIVER_VERSION; tenant by namespace,
 * else by hostname. Returns the kept samples of the pushes that are not truncated.
 */
export function relabel(scrapes: readonly Scrape[]): RelabelledSample[] {
  const out: RelabelledSample[] = [];
  for (const scrape of scrapes) {
    if (scrape.truncated) continue;
    for (const family of scrape.families) {
      if (!KEEP.test(family.name)) continue;
      for (const s of family.samples) {
        const labels: Record<string, string> = Object.fromEntries(s.labels);
        Object.assign(labels, { job: scrape.job, instance: scrape.instance, cluster: scrape.cluster });
        if ((labels.Hostname ?? '') !== '') labels.hostname = nodeName(labels.Hostname!);
        if ((labels.hostname ?? '') === '' && (labels.instance ?? '') !== '') labels.hostname = nodeName(labels.instance!);
        delete labels.Hostname;
        delete labels.pci_bus_id;
        delete labels.DCGM_FI_DRIVER_VERSION;
        const tenantKey = (labels.namespace ?? '') !== '' ? `ns/${labels.namespace}` : labels.hostname !== undefined ? `node/${labels.hostname}` : '';
        out.push({ name: family.name, labels, value: s.value, timeMs: scrape.timeMs, tenant: TENANT_MAP[tenantKey], tenantKey });
      }
    }
  }
  return out;
}

/** `host:port` or `host.domain[:port]` → `host`; an IPv4 address keeps its dots. */
export function nodeName(instance: string): string {
  const colon = instance.lastIndexOf(':');
  const host = colon >= 0 && /^[0-9]+$/.test(instance.slice(colon + 1)) ? instance.slice(0, colon) : instance;
  const parts = host.split('.');
  return parts.length === 4 && parts.every((p) => /^[0-9]+$/.test(p)) ? host : parts[0]!;
}

export function windowEnd(timeMs: number): number {
  return Math.floor(timeMs / WINDOW_MS) * WINDOW_MS + WINDOW_MS;
}

/** `name{a="x",b="y"}`: labels sorted, empty values left out (Prometheus has no empty labels). */
export function seriesId(name: string, labels: Readonly<Record<string, string>>): string {
  const body = Object.keys(labels)
    .filter((k) => k !== '__name__' && labels[k] !== '')
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',');
  return `${name}{${body}}`;
}

const ROLLUPS: readonly { name: string; source: string; aggregate: 'avg' | 'max' | 'sum'; by: 'cluster' | 'job' }[] = [
  { name: 'gpu_cluster_utilization_avg_percent', source: 'DCGM_FI_DEV_GPU_UTIL', aggregate: 'avg', by: 'cluster' },
  { name: 'gpu_cluster_utilization_max_percent', source: 'DCGM_FI_DEV_GPU_UTIL', aggregate: 'max', by: 'cluster' },
  { name: 'gpu_job_utilization_avg_percent', source: 'DCGM_FI_DEV_GPU_UTIL', aggregate: 'avg', by: 'job' },
  { name: 'gpu_cluster_framebuffer_used_mebibytes', source: 'DCGM_FI_DEV_FB_USED', aggregate: 'sum', by: 'cluster' },
  { name: 'gpu_cluster_temperature_max_celsius', source: 'DCGM_FI_DEV_GPU_TEMP', aggregate: 'max', by: 'cluster' },
];

const COUNTER_RATES: readonly { name: string; source: string; output: 'total' | 'rate' }[] = [
  { name: 'rdma_link_downed_total', source: 'node_infiniband_link_downed_total', output: 'total' },
  { name: 'rdma_symbol_errors_total', source: 'node_infiniband_symbol_error_total', output: 'total' },
  { name: 'rdma_cnp_sent_packets_total', source: 'node_infiniband_np_cnp_packets_sent_total', output: 'total' },
  { name: 'rdma_ecn_marked_packets_total', source: 'node_infiniband_np_ecn_marked_roce_packets_received_total', output: 'total' },
  { name: 'rdma_receive_bytes_per_second', source: 'node_infiniband_port_data_received_bytes_total', output: 'rate' },
  { name: 'rdma_transmit_bytes_per_second', source: 'node_infiniband_port_data_transmitted_bytes_total', output: 'rate' },
];

export function gpuRdmaOracle(samples: readonly RelabelledSample[], throughEndMs: number): TenantSeries {
  const out: TenantSeries = new Map();
  const put = (tenant: string, id: string, end: number, value: number) => {
    let series = out.get(tenant);
    if (!series) out.set(tenant, (series = new Map()));
    let points = series.get(id);
    if (!points) series.set(id, (points = []));
    const last = points[points.length - 1];
    if (last && last[0] === end) last[1] = value;
    else points.push([end, value]);
  };
  const routed = samples.filter((s) => s.tenant !== undefined) as (RelabelledSample & { tenant: string })[];
  const byTime = [...routed].sort((a, b) => a.timeMs - b.timeMs);

  // (1) passthrough: newest value per series and window.
  const newest = new Map<string, { tenant: string; id: string; end: number; value: number }>();
  for (const s of byTime) {
    const id = seriesId(s.name, s.labels);
    const end = windowEnd(s.timeMs);
    newest.set(`${s.tenant}\u0000${id}\u0000${end}`, { tenant: s.tenant, id, end, value: s.value });
  }
  for (const n of [...newest.values()].sort((a, b) => a.end - b.end)) put(n.tenant, n.id, n.end, n.value);

  // (2) rollups: per tenant, group label and window, over each member's newest sample.
  for (const rollup of ROLLUPS) {
    const windows = new Map<string, { tenant: string; id: string; end: number; members: Map<string, number> }>();
    for (const s of byTime) {
      if (s.name !== rollup.source) continue;
      const id = seriesId(rollup.name, { [rollup.by]: s.labels[rollup.by]! });
      const end = windowEnd(s.timeMs);
      const key = `${s.tenant}\u0000${id}\u0000${end}`;
      let w = windows.get(key);
      if (!w) windows.set(key, (w = { tenant: s.tenant, id, end, members: new Map() }));
      w.members.set(`${s.labels.hostname}/${s.labels.gpu}`, s.value); // in time order: the newest wins
    }
    for (const w of [...windows.values()].sort((a, b) => a.end - b.end)) {
      const values = [...w.members.values()];
      const sum = values.reduce((a, b) => a + b, 0);
      const value = rollup.aggregate === 'sum' ? sum : rollup.aggregate === 'avg' ? sum / values.length : Math.max(...values);
      put(w.tenant, w.id, w.end, value);
    }
  }

  // (3) XID reports: a cumulative count of samples with an XID.
  const xidCounts = new Map<string, { tenant: string; id: string; perWindow: Map<number, number> }>();
  for (const s of byTime) {
    if (s.name !== 'DCGM_FI_DEV_XID_ERRORS' || !(s.value > 0)) continue;
    const id = seriesId('gpu_xid_error_reports_total', { hostname: s.labels.hostname!, gpu: s.labels.gpu!, xid: String(s.value) });
    const key = `${s.tenant}\u0000${id}`;
    let c = xidCounts.get(key);
    if (!c) xidCounts.set(key, (c = { tenant: s.tenant, id, perWindow: new Map() }));
    const end = windowEnd(s.timeMs);
    c.perWindow.set(end, (c.perWindow.get(end) ?? 0) + 1);
  }
  for (const c of xidCounts.values()) {
    for (const [end, total] of cumulate(c.perWindow, throughEndMs)) put(c.tenant, c.id, end, total);
  }

  // (4) RDMA counters: reset-corrected increase, attributed to the window of the later sample.
  for (const counter of COUNTER_RATES) {
    const previous = new Map<string, number>(); // member → its last value
    const series = new Map<string, { tenant: string; id: string; perWindow: Map<number, number> }>();
    for (const s of byTime) {
      if (s.name !== counter.source) continue;
      const id = seriesId(counter.name, { hostname: s.labels.hostname! });
      const key = `${s.tenant}\u0000${id}`;
      let c = series.get(key);
      if (!c) series.set(key, (c = { tenant: s.tenant, id, perWindow: new Map() }));
      const member = `${key}\u0000${s.labels.device}\u0000${s.labels.port}`;
      const prev = previous.get(member);
      const increase = prev === undefined ? 0 : s.value >= prev ? s.value - prev : s.value;
      previous.set(member, s.value);
      const end = windowEnd(s.timeMs);
      c.perWindow.set(end, (c.perWindow.get(end) ?? 0) + increase);
    }
    for (const c of series.values()) {
      if (counter.output === 'total') {
        for (const [end, total] of cumulate(c.perWindow, throughEndMs)) put(c.tenant, c.id, end, total);
      } else {
        const first = Math.min(...c.perWindow.keys());
        for (let end = first; end <= throughEndMs; end += WINDOW_MS) put(c.tenant, c.id, end, (c.perWindow.get(end) ?? 0) / (WINDOW_MS / 1000));
      }
    }
  }
  return out;
}

/** Per-window increments → the running total at every window end from the first through `throughEndMs`. */
function cumulate(perWindow: ReadonlyMap<number, number>, throughEndMs: number): [number, number][] {
  const first = Math.min(...perWindow.keys());
  const out: [number, number][] = [];
  let total = 0;
  for (let end = first; end <= throughEndMs; end += WINDOW_MS) {
    total += perWindow.get(end) ?? 0;
    out.push([end, total]);
  }
  return out;
}

/**
 * Differences between expected and actual series of one tenant, as readable lines (empty when
 * they agree). Values agree when equal, or within 1e-12 relative for the quotients (averages, rates).
 */
export function diffTenant(tenant: string, expected: ReadonlyMap<string, [number, number][]>, actual: ReadonlyMap<string, [number, number][]>): string[] {
  const lines: string[] = [];
  for (const id of [...expected.keys()].sort()) {
    if (!actual.has(id)) lines.push(`${tenant}: missing series ${id}`);
  }
  for (const id of [...actual.keys()].sort()) {
    if (!expected.has(id)) lines.push(`${tenant}: unexpected series ${id} = ${JSON.stringify(actual.get(id))}`);
  }
  for (const [id, want] of expected) {
    const got = actual.get(id);
    if (!got) continue;
    const wantByTime = new Map(want);
    const gotByTime = new Map(got);
    for (const [t, v] of want) {
      const a = gotByTime.get(t);
      if (a === undefined) lines.push(`${tenant}: ${id} @${new Date(t).toISOString()}: missing, expected ${v}`);
      else if (!close(a, v)) lines.push(`${tenant}: ${id} @${new Date(t).toISOString()}: got ${a}, expected ${v}`);
    }
    for (const [t, a] of got) {
      if (!wantByTime.has(t)) lines.push(`${tenant}: ${id} @${new Date(t).toISOString()}: unexpected sample ${a}`);
    }
  }
  return lines;
}

function close(a: number, b: number): boolean {
  if (a === b || (Number.isNaN(a) && Number.isNaN(b))) return true;
  return Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b));
}
