import { createHash } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { LoadedPipeline } from '../../config/load.ts';
import { partialsTopic } from '../../runtime/repartition-codec.ts';
import { RECENT_S, type DeadLetterStatus, type PipelineStatus, type StatusSnapshot, type TenantStatus } from './snapshot.ts';

/** Rates are over this window: long enough to smooth a flush interval's bursts, short enough to follow a change. */
const RATE_WINDOW_MS = 5_000;
const TICK_MS = 1_000;

type Labels = Partial<Record<string, string | number>>;
type Series = readonly { readonly labels: Labels; readonly value: number }[];

/** The counters kept as history (rates need two points in time), each summed by these labels. */
const COUNTERS = {
  in: ['sluice_records_in_total', 'pipeline'],
  filtered: ['sluice_records_filtered_total', 'pipeline'],
  dl: ['sluice_dead_letter_records_total', 'pipeline', 'reason'],
  ckpt: ['sluice_checkpoints_total', 'pipeline'],
  late: ['sluice_late_partials_total', 'pipeline'],
  tin: ['sluice_remote_write_samples_in_total', 'tenant'],
  tsent: ['sluice_remote_write_samples_sent_total', 'tenant'],
  tfail: ['sluice_remote_write_samples_failed_total', 'tenant'],
  tfailReason: ['sluice_remote_write_samples_failed_total', 'tenant', 'reason'],
  tover: ['sluice_remote_write_overflow_samples_total', 'tenant'],
} as const;

/** The gauges read as they are now, summed by these labels. */
const GAUGES = {
  lag: ['sluice_consumer_lag_records', 'pipeline'],
  delay: ['sluice_watermark_delay_seconds', 'pipeline'],
  series: ['sluice_window_state_series', 'pipeline'],
  paused: ['sluice_paused_partitions', 'pipeline'],
  pending: ['sluice_remote_write_samples_pending', 'tenant'],
  tseries: ['sluice_remote_write_active_series', 'tenant'],
  blocked: ['sluice_remote_write_blocked', 'tenant'],
} as const;

type Totals = Map<string, number>;
interface Point {
  readonly at: number;
  readonly totals: Totals;
}

/**
 * Reads the process' metrics registry once a second into a short history, and builds the status
 * snapshot from it. It reads what the pipelines already count: nothing is added to their path.
 */
export class StatusBoard {
  private readonly history: Point[] = [];
  private readonly lastError = new Map<string, { reason: string; at: string }>();
  private pipelines: readonly PipelineInfo[];
  private configHash: string;
  private timer: NodeJS.Timeout | undefined;
  private latest: StatusSnapshot | undefined;
  private readonly startedAt: number;

  constructor(
    private readonly registry: Registry,
    loaded: readonly LoadedPipeline[],
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
    this.pipelines = loaded.map(pipelineInfo);
    this.configHash = shortHash(this.pipelines.map((p) => p.hash).join('\n'));
  }

  /** The configs running now (after a reload): the page shows their graph and hash from the next reading on. */
  setPipelines(loaded: readonly LoadedPipeline[]): void {
    this.pipelines = loaded.map(pipelineInfo);
    this.configHash = shortHash(this.pipelines.map((p) => p.hash).join('\n'));
    this.latest = undefined;
  }

  /** Starts the once-a-second reading (a timer that does not hold the process open). */
  start(): void {
    this.timer ??= setInterval(() => void this.refresh().catch(() => {}), TICK_MS).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The snapshot of the last second's reading; the first call reads now. */
  async snapshot(): Promise<StatusSnapshot> {
    return this.latest ?? (await this.refresh());
  }

  /** Reads the registry, appends to the history, and builds a fresh snapshot. */
  async refresh(): Promise<StatusSnapshot> {
    const now = this.now();
    const values = new Map<string, Series>();
    for (const [name] of [...Object.values(COUNTERS), ...Object.values(GAUGES)]) {
      if (values.has(name)) continue;
      const metric = this.registry.getSingleMetric(name);
      values.set(name, metric ? ((await metric.get()).values as Series) : []);
    }
    const totals: Totals = new Map();
    for (const [kind, [name, ...by]] of [...Object.entries(COUNTERS), ...Object.entries(GAUGES)]) sumBy(totals, kind, values.get(name) ?? [], by);
    const previous = this.history.at(-1);
    this.noteErrors(previous?.totals, totals, now);
    this.history.push({ at: now, totals });
    while (this.history.length > 1 && now - this.history[0]!.at > RECENT_S * 1000 + TICK_MS) this.history.shift();
    this.latest = this.build(now, totals);
    return this.latest;
  }

  private noteErrors(before: Totals | undefined, after: Totals, now: number): void {
    for (const [key, value] of after) {
      if (!key.startsWith('tfailReason|') || value <= (before?.get(key) ?? 0)) continue;
      // The reason is a fixed vocabulary; a tenant id may hold any character.
      const cut = key.lastIndexOf('|');
      this.lastError.set(key.slice(key.indexOf('|') + 1, cut), { reason: key.slice(cut + 1), at: new Date(now).toISOString() });
    }
  }

  private build(now: number, totals: Totals): StatusSnapshot {
    const rate = this.rates(now, totals, RATE_WINDOW_MS);
    const recent = this.rates(now, totals, RECENT_S * 1000);
    const get = (key: string) => totals.get(key) ?? 0;
    const pipelines = this.pipelines.map((p): PipelineStatus => {
      const delay = totals.get(`delay|${p.name}`);
      return {
        name: p.name,
        config_hash: p.hash,
        file: p.file,
        sources: p.sources,
        codec: p.codec,
        partials_topic: p.partialsTopic,
        partials_partitions: p.partialsPartitions,
        dead_letter_topic: p.deadLetterTopic,
        tenants: p.tenants,
        default_route: p.defaultRoute,
        stage1: {
          records_in_total: get(`in|${p.name}`),
          records_in_per_s: rate.perSecond(`in|${p.name}`),
          filtered_per_s: rate.perSecond(`filtered|${p.name}`),
          dead_letters_per_s: sumPrefix(totals, `dl|${p.name}|`, (key) => rate.perSecond(key)),
          consumer_lag: get(`lag|${p.name}`),
        },
        stage2: {
          watermark: delay === undefined ? null : new Date(now - delay * 1000).toISOString(),
          watermark_delay_s: delay ?? null,
          active_series: get(`series|${p.name}`),
          paused_partitions: get(`paused|${p.name}`),
          checkpoints_per_s: rate.perSecond(`ckpt|${p.name}`),
          late_partials_total: get(`late|${p.name}`),
        },
        dead_letters: deadLetters(totals, p.name, rate, recent),
      };
    });
    return {
      version: 1,
      at: new Date(now).toISOString(),
      uptime_s: Math.round((now - this.startedAt) / 1000),
      config_hash: this.configHash,
      pipelines,
      tenants: this.tenants(totals, rate),
    };
  }

  /** Every declared tenant, and every tenant the sink has counted (a default route adds them as they come). */
  private tenants(totals: Totals, rate: Rates): TenantStatus[] {
    const ids = new Set(this.pipelines.flatMap((p) => p.tenants));
    for (const key of totals.keys()) if (key.startsWith('tin|') || key.startsWith('pending|')) ids.add(key.slice(key.indexOf('|') + 1));
    const routed = this.pipelines.filter((p) => p.defaultRoute).map((p) => p.name);
    const get = (key: string) => totals.get(key) ?? 0;
    return [...ids].sort().map((tenant): TenantStatus => {
      const declared = this.pipelines.filter((p) => p.tenants.includes(tenant)).map((p) => p.name);
      return {
        tenant,
        pipelines: declared.length > 0 ? declared : routed,
        samples_in_per_s: rate.perSecond(`tin|${tenant}`),
        samples_sent_per_s: rate.perSecond(`tsent|${tenant}`),
        samples_sent_total: get(`tsent|${tenant}`),
        backlog: get(`pending|${tenant}`),
        failed_total: get(`tfail|${tenant}`),
        failed_per_s: rate.perSecond(`tfail|${tenant}`),
        last_error: this.lastError.get(tenant) ?? null,
        overflow_total: get(`tover|${tenant}`),
        overflow_per_s: rate.perSecond(`tover|${tenant}`),
        active_series: get(`tseries|${tenant}`),
        blocked: get(`blocked|${tenant}`) > 0,
      };
    });
  }

  /** Per-second increase of a total since the oldest point at most `windowMs` old (0 with one point). */
  private rates(now: number, totals: Totals, windowMs: number): Rates {
    const base = this.history.find((point) => now - point.at <= windowMs + TICK_MS / 2) ?? this.history.at(-1)!;
    const seconds = (now - base.at) / 1000;
    return {
      perSecond: (key) => (seconds > 0 ? Math.max(0, (totals.get(key) ?? 0) - (base.totals.get(key) ?? 0)) / seconds : 0),
      increase: (key) => Math.max(0, (totals.get(key) ?? 0) - (base.totals.get(key) ?? 0)),
    };
  }
}

interface Rates {
  perSecond(key: string): number;
  increase(key: string): number;
}

function deadLetters(totals: Totals, pipeline: string, rate: Rates, recent: Rates): DeadLetterStatus[] {
  const prefix = `dl|${pipeline}|`;
  const out: DeadLetterStatus[] = [];
  for (const [key, total] of totals) {
    if (!key.startsWith(prefix) || total === 0) continue;
    out.push({ reason: key.slice(prefix.length), total, per_s: rate.perSecond(key), recent: recent.increase(key) });
  }
  return out.sort((a, b) => b.recent - a.recent || b.total - a.total || a.reason.localeCompare(b.reason));
}

function sumBy(totals: Totals, kind: string, series: Series, by: readonly string[]): void {
  for (const { labels, value } of series) {
    if (!Number.isFinite(value)) continue;
    const key = [kind, ...by.map((label) => String(labels[label] ?? ''))].join('|');
    totals.set(key, (totals.get(key) ?? 0) + value);
  }
}

function sumPrefix(totals: Totals, prefix: string, value: (key: string) => number): number {
  let sum = 0;
  for (const key of totals.keys()) if (key.startsWith(prefix)) sum += value(key);
  return sum;
}

interface PipelineInfo {
  readonly name: string;
  readonly hash: string;
  readonly file: string;
  readonly sources: readonly string[];
  readonly codec: string;
  readonly partialsTopic: string;
  readonly partialsPartitions: number;
  readonly deadLetterTopic: string;
  readonly tenants: readonly string[];
  readonly defaultRoute: boolean;
}

function pipelineInfo({ config, file, source }: LoadedPipeline): PipelineInfo {
  // Environment values (secrets among them) enter the hash as the `${NAME}` the file wrote, so a
  // rotated secret does not look like a config change, and the hash reveals nothing of it.
  const text = JSON.stringify(config);
  return {
    name: config.name,
    hash: shortHash(source ? source.redact(text) : text),
    file,
    sources: config.source.topics,
    codec: config.decode.codec,
    partialsTopic: partialsTopic(config.name),
    partialsPartitions: config.repartition.partitions,
    deadLetterTopic: config.dead_letter.topic,
    tenants: Object.keys(config.tenants.tenants),
    defaultRoute: config.tenants.default_route !== undefined,
  };
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
