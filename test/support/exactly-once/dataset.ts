import { seededRandom } from '../seeded-random.ts';

/**
 * The input of the exactly-once scenarios (test/fixtures/pipelines/exactly-once.yaml):
 * deterministic for a seed, skewed, out of order within the bound on every partition, with a
 * slice of records older than the bound but inside `allowed_lateness` (accepted) and a slice
 * beyond it (late → DLQ), and idle partitions (one never gets a record, two go quiet early).
 *
 * The dataset is a *production sequence*: the order in which the test produces records, each
 * to an explicit partition. A partition's order is its subsequence. Records are laid out along
 * an "arrival" clock (event time at which a record would naturally arrive), and every partition
 * is fed continuously while it is active, so no partition that still has data falls quiet for
 * `idle_timeout` while the others run (the oracle does not model wall-clock idleness).
 */
export interface EoRecord {
  id: string;
  /** Event time, Unix ms (integer). */
  ts: number;
  tenant: string;
  model: string;
  status: number;
  tokens: number;
  /** Integer milliseconds, ≥ 1. */
  latency_ms: number;
  user: string;
}

/** How the generator placed a record relative to its partition's newest event time so far. */
export type Placement = 'in_order' | 'within_bound' | 'within_lateness' | 'beyond_lateness';

export interface ProducedRecord {
  partition: number;
  record: EoRecord;
  /** Generator's intent; the oracle re-derives lateness independently, a unit test compares. */
  placement: Placement;
}

export interface EventTimeRules {
  windowMs: number;
  maxOutOfOrdernessMs: number;
  allowedLatenessMs: number;
}

/** The rules of test/fixtures/pipelines/exactly-once.yaml. */
export const EO_RULES: EventTimeRules = { windowMs: 10_000, maxOutOfOrdernessMs: 2_000, allowedLatenessMs: 3_000 };

export const EO_TENANTS = ['t1', 't2', 't3', 't4', 't5'] as const;

export interface DatasetOptions {
  seed: number;
  /** Total records, late ones included. */
  records: number;
  /** Arrival clock of the first record (Unix ms). */
  startMs: number;
  /** Length of the arrival clock for partitions active the whole time. */
  spanMs: number;
  /** Topic partitions (≥ 4). The last stays empty; the two before it go quiet at `quietAt`. */
  partitions: number;
  /** Fractions of the span after which partitions n-2 and n-3 get no more records. Default [0.35, 0.7]. */
  quietAt?: readonly [number, number];
  /** Share of records placed older than max_out_of_orderness but within allowed_lateness. Default 0.01. */
  withinLatenessShare?: number;
  /** Share of records placed beyond allowed_lateness (late). Default 0.005. */
  beyondLatenessShare?: number;
  rules?: EventTimeRules;
}

export interface Dataset {
  options: Required<Omit<DatasetOptions, 'quietAt'>> & { quietAt: readonly [number, number] };
  /** In production order. */
  sequence: ProducedRecord[];
  /** Partitions that get no record at all. */
  emptyPartitions: number[];
  /** Partition → arrival time of its last record, for partitions that go quiet early. */
  quietPartitions: Map<number, number>;
  /** Smallest and largest event time in the data (late records included). */
  minTs: number;
  maxTs: number;
}

const MODELS_SHARED: readonly { model: string; weight: number; latencyMedianMs: number }[] = [
  { model: 'qwen-plus', weight: 55, latencyMedianMs: 420 },
  { model: 'qwen-max', weight: 14, latencyMedianMs: 1_300 },
  { model: 'qwen-turbo', weight: 13, latencyMedianMs: 160 },
  { model: 'deepseek-v3', weight: 8, latencyMedianMs: 900 },
];
/** Each tenant's own fine-tuned model: a series that shows up anywhere but its tenant's Prometheus is a leak. */
const EXCLUSIVE_WEIGHT = 10;
export const exclusiveModel = (tenant: string): string => `qwen-ft-${tenant}`;

const TENANT_WEIGHTS: Record<(typeof EO_TENANTS)[number], number> = { t1: 45, t2: 20, t3: 15, t4: 12, t5: 8 };
const STATUS_WEIGHTS: readonly { status: number; weight: number }[] = [
  { status: 200, weight: 88 },
  { status: 429, weight: 7 },
  { status: 500, weight: 3 },
  { status: 503, weight: 2 },
];
const USERS = 30_000;
const ZIPF_EXPONENT = 1.1;

export function generateDataset(opts: DatasetOptions): Dataset {
  const options = {
    quietAt: [0.35, 0.7] as const,
    withinLatenessShare: 0.01,
    beyondLatenessShare: 0.005,
    rules: EO_RULES,
    ...opts,
  };
  if (options.partitions < 4) throw new Error('generateDataset: need at least 4 partitions (one empty, two quiet early, one active)');
  const random = seededRandom(options.seed);
  const normal = gaussian(random);
  const pickTenant = weighted(random, EO_TENANTS.map((t) => ({ value: t, weight: TENANT_WEIGHTS[t] })));
  const pickStatus = weighted(random, STATUS_WEIGHTS.map((s) => ({ value: s.status, weight: s.weight })));
  const pickUser = zipf(random, USERS, ZIPF_EXPONENT);
  const modelPickers = new Map(
    EO_TENANTS.map((tenant) => [
      tenant,
      weighted(random, [
        ...MODELS_SHARED.map((m) => ({ value: m, weight: m.weight })),
        { value: { model: exclusiveModel(tenant), weight: EXCLUSIVE_WEIGHT, latencyMedianMs: 650 }, weight: EXCLUSIVE_WEIGHT },
      ]),
    ]),
  );

  // Active length of each partition as a fraction of the span; records are shared in proportion.
  const last = options.partitions - 1;
  const activeFraction = (p: number): number =>
    p === last ? 0 : p === last - 1 ? options.quietAt[0] : p === last - 2 ? options.quietAt[1] : 1;
  const fractions = Array.from({ length: options.partitions }, (_, p) => activeFraction(p));
  const totalFraction = fractions.reduce((a, b) => a + b, 0);
  const counts = fractions.map((f) => Math.floor((options.records * f) / totalFraction));
  counts[0]! += options.records - counts.reduce((a, b) => a + b, 0);

  // Arrival times per partition: evenly spread with jitter, non-decreasing.
  const arrivals: { partition: number; arrival: number }[] = [];
  fractions.forEach((f, partition) => {
    const n = counts[partition]!;
    for (let k = 0; k < n; k++) {
      arrivals.push({ partition, arrival: options.startMs + Math.floor(((k + random()) / n) * f * options.spanMs) });
    }
  });
  // Stable by partition order within equal arrival times, so each partition keeps its own order.
  arrivals.sort((a, b) => a.arrival - b.arrival || a.partition - b.partition);

  const { maxOutOfOrdernessMs: bound, allowedLatenessMs: lateness } = options.rules;
  const newest = new Array<number>(options.partitions).fill(Number.NEGATIVE_INFINITY);
  const quietPartitions = new Map<number, number>();
  const sequence: ProducedRecord[] = new Array(arrivals.length);
  let minTs = Number.POSITIVE_INFINITY;
  let maxTs = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < arrivals.length; i++) {
    const { partition, arrival } = arrivals[i]!;
    const max = newest[partition]!;
    let placement: Placement;
    let ts: number;
    const u = random();
    if (max !== Number.NEGATIVE_INFINITY && u < options.beyondLatenessShare) {
      placement = 'beyond_lateness';
      // a few exactly one ms beyond the limit, the rest up to 30 s beyond
      ts = max - bound - lateness - 1 - (random() < 0.05 ? 0 : Math.floor(random() * 30_000));
    } else if (max !== Number.NEGATIVE_INFINITY && u < options.beyondLatenessShare + options.withinLatenessShare) {
      placement = 'within_lateness';
      // older than the bound, not beyond the lateness; a few exactly on the limit (still accepted)
      ts = random() < 0.05 ? max - bound - lateness : max - bound - 1 - Math.floor(random() * lateness);
    } else {
      // up to the bound behind the arrival clock, which is never behind this partition's newest
      ts = arrival - Math.floor(random() * (bound + 1));
      placement = ts >= max ? 'in_order' : 'within_bound';
    }
    if (ts > max) newest[partition] = ts;
    if (ts < minTs) minTs = ts;
    if (ts > maxTs) maxTs = ts;
    if (fractions[partition]! < 1) quietPartitions.set(partition, arrival);

    const tenant = pickTenant();
    const model = modelPickers.get(tenant)!();
    const latency = Math.min(120_000, Math.max(1, Math.round(model.latencyMedianMs * Math.exp(0.9 * normal()))));
    const tokens = Math.min(32_000, Math.max(1, Math.round(Math.exp(6 + 1.1 * normal()))));
    sequence[i] = {
      partition,
      placement,
      record: {
        id: `s${options.seed}-${i}`,
        ts,
        tenant,
        model: model.model,
        status: pickStatus(),
        tokens,
        latency_ms: latency,
        user: `u${pickUser()}`,
      },
    };
  }
  quietPartitions.delete(last); // the last one is empty, not quiet
  return {
    options,
    sequence,
    emptyPartitions: fractions.flatMap((f, p) => (f === 0 ? [p] : [])),
    quietPartitions,
    minTs,
    maxTs,
  };
}

/** The bytes a record is produced with (and must come back with from the DLQ). */
export function encodeRecord(record: EoRecord): Buffer {
  return Buffer.from(JSON.stringify(record));
}

/** Each partition's records in partition order. */
export function byPartition(sequence: readonly ProducedRecord[], partitions: number): ProducedRecord[][] {
  const out: ProducedRecord[][] = Array.from({ length: partitions }, () => []);
  for (const r of sequence) out[r.partition]!.push(r);
  return out;
}

function weighted<T>(random: () => number, items: readonly { value: T; weight: number }[]): () => T {
  const total = items.reduce((a, b) => a + b.weight, 0);
  return () => {
    let x = random() * total;
    for (const item of items) {
      x -= item.weight;
      if (x < 0) return item.value;
    }
    return items[items.length - 1]!.value;
  };
}

/** Ranks 1..n with P(k) ∝ k^-s, by inverse CDF. */
function zipf(random: () => number, n: number, s: number): () => number {
  const cdf = new Float64Array(n);
  let acc = 0;
  for (let k = 1; k <= n; k++) cdf[k - 1] = acc += 1 / k ** s;
  return () => {
    const x = random() * acc;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
}

/** Standard normal deviates (Box–Muller). */
function gaussian(random: () => number): () => number {
  return () => {
    const u = 1 - random(); // (0, 1]
    const v = random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}
