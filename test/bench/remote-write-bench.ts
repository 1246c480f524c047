/**
 * Remote-write sink benchmark: `node --import tsx test/bench/remote-write-bench.ts`
 *
 * 1. encode: samples/s of grouping + protobuf + snappy for one 2000-sample
 *    request (200 series × 10 points), the hand-written WriteRequestWriter
 *    against protobufjs on the same input (the encoder before this change);
 * 2. sender CPU path: samples/s through TenantSender.write → shards →
 *    encode → snappy with an instant in-process "receiver" (no HTTP), i.e.
 *    what the sink costs one core;
 * 3. end to end: samples/s delivered to a real Prometheus (started here on a
 *    free port and stopped at the end), and the sink process' CPU seconds;
 * 4. memory per queued sample: heap growth / samples queued for a stopped
 *    receiver (connection refused, retrying), label arrays reused as the
 *    operators do;
 * 5. remote-write 1.0, 2.0 and OTLP on the gateway workload (the points the
 *    bailian-gateway pipeline emits: request and token counters, latency
 *    histograms, each with its descriptor and start time; flattened to
 *    _bucket/_sum/_count for remote-write): compressed request bytes per
 *    Prometheus sample and samples per CPU-second through the whole sink, and
 *    the v2/v1 byte ratio. OTLP carries a histogram as one point with bucket
 *    counts, hence its few bytes per sample; so does `v2 nhcb` (a tenant with
 *    `histograms: native_custom_buckets`), counted per classic sample its
 *    histograms stand for. Measured (40 windows, this machine): v2 8.35 B,
 *    v2 nhcb 2.77 B per sample (67 % fewer; 18 % of v1's 15.17), 1.06 M vs
 *    0.37 M samples per CPU-second.
 *
 * 6. points through the whole sink: the gateway workload's points (fresh objects every window,
 *    label arrays reused, as stage 2 emits them) written to the sink the `remote_write` sink
 *    type builds (RemoteWritePointSink: flattened as they are queued), sent over HTTP to a
 *    receiver in a child process (its CPU not counted) until acknowledged: CPU-µs per sample
 *    and bytes per sample, for 1.0 and 2.0. Before/after flattening into the queues, the
 *    encoders' index ranges, the timestamp varints and request() instead of fetch (main and
 *    branch loaded in one process, ABBA rounds of 5 windows; load 9-15): 1.0 with an in-process
 *    receiver 2.303 → 1.975 µs (0.86), over HTTP 2.877 → 2.211 (0.77, request() alone).
 *
 * Set SLUICE_BENCH_QUICK=1 for a shorter run.
 *
 * Part 5 before/after writing each request's series in key order (series-order.ts) instead of
 * first-seen order (same machine, 40 windows): v1 16.02 → 14.99 B/sample, v2 10.69 → 8.26
 * (33 % → 45 % fewer than v1), v2 without metadata and start times 8.94 → 8.04. Where 2.0's
 * bytes went: not the symbols table (requests of 4000 or 10000 samples save < 2 %), but
 * series whose neighbours had another name, so metadata, start timestamp and label refs
 * broke snappy's back-references; sorted, metadata and start timestamps cost 0.2 B/sample.
 * The price was CPU where a request's series do not repeat the previous window's exactly (part
 * 2: batches cut by a 5 ms max_delay): 330k → 220k samples per CPU-second on the loaded
 * 2-core machine, the sort of 2000 keys per request. Since then a series is ranked once per
 * tenant (series-order.ts) and a request sorts numbers: group + v1 encode of a 2000-sample
 * request over 10k series, in one process alternating old and new, 3.4-4.1 ms → 1.3-1.5 ms
 * of CPU (1.6-1.7 ms before grouping through the order slots); in the gateway pipeline's
 * profile (pipeline-bench, 300k records, ranks without the slot grouping) the sinks went from
 * 4.97 and 8.70 µs to 3.36 and 3.76 µs of CPU per sample sent (12.1 and 18.0 % of busy CPU
 * to 11.7 and 12.0 %).
 *
 * Before/after this sink's rewrite (same machine, same 5000-series windows,
 * instant in-process receiver): the previous TenantSender (protobufjs, queue
 * of Sample references, one request in flight per tenant) did 0.31 M samples
 * per CPU-second and held 55.8 B per queued sample; this one does 0.97 M
 * (4 shards; 0.85 M with 1) and 38.2 B.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pino } from 'pino';
import { compressSync } from 'snappy';
import type { MetricDescriptor, MetricPoint } from '../../src/core/metric-model.ts';
import type { Label, Sample } from '../../src/core/types.ts';
import type { SendFunction, TenantSenderConfig } from '../../src/sinks/remote-write/sender.ts';
import { TenantSender } from '../../src/sinks/remote-write/sender.ts';
import { encodeWriteRequest } from '../../src/sinks/remote-write/proto.ts';
import { WriteRequestWriter } from '../../src/sinks/remote-write/wire.ts';
import { OtlpSink, type OtlpTenant } from '../../src/sinks/otlp/index.ts';
import { SampleFlattener } from '../../src/sinks/prometheus/flatten.ts';
import { RemoteWritePointSink, RemoteWriteSink } from '../../src/sinks/remote-write/index.ts';
import { fork } from 'node:child_process';
import { remoteWriteTenantSchema as tenantConfigSchema, tenantsConfigSchema } from '../../src/sinks/registry.ts';
import { startPrometheus } from '../stack/prometheus.ts';
import { queryInstant } from '../stack/prometheus-query.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const quick = process.env.SLUICE_BENCH_QUICK === '1';
const silent = pino({ level: 'silent' });
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function seriesLabels(count: number, metric = 'bench_requests_total'): Label[][] {
  return Array.from({ length: count }, (_, i) => [
    { name: '__name__', value: metric },
    { name: 'api', value: ['chat', 'embed', 'rerank'][i % 3]! },
    { name: 'instance', value: `gateway-${i % 16}` },
    { name: 'model', value: `model-${i % 97}` },
    { name: 'series', value: String(i) },
    { name: 'tenant_app', value: `app-${i % 31}` },
  ]);
}

function window(labels: readonly Label[][], ts: number, k: number): Sample[] {
  return labels.map((l, i) => ({ labels: l, value: k * 10 + i, timestampMs: ts }));
}

function config(input: Record<string, unknown>): TenantSenderConfig {
  return tenantConfigSchema.parse(input) as TenantSenderConfig;
}

function benchEncode(): void {
  // One 2000-sample request: 200 series × 10 points, grouped beforehand (the
  // sender groups with a counting sort, series-grouping.ts).
  const labels = seriesLabels(200);
  const groups = labels.map((l) => ({
    labels: l,
    samples: Array.from({ length: 10 }, (_, p) => ({ value: p * 1.5, timestampMs: 1_700_000_000_000 + p * 10_000 })),
  }));
  const writer = new WriteRequestWriter();
  const values = new Float64Array(2_000);
  const timestamps = new Float64Array(2_000);
  const order = Uint32Array.from({ length: 2_000 }, (_, i) => i);
  groups.forEach((g, gi) =>
    g.samples.forEach((point, p) => {
      values[gi * 10 + p] = point.value;
      timestamps[gi * 10 + p] = point.timestampMs;
    }),
  );
  const protobufjs = (): Uint8Array => encodeWriteRequest(groups);
  const handWritten = (): Uint8Array => {
    writer.reset();
    for (let g = 0; g < groups.length; g++) writer.addSeries(groups[g]!.labels, values, timestamps, order.subarray(g * 10, g * 10 + 10), 10);
    return writer.finish();
  };
  const rounds = quick ? 500 : 3_000;
  const cases: [string, () => number][] = [
    ['protobufjs', () => protobufjs().length],
    ['WriteRequestWriter', () => handWritten().length],
    ['protobufjs + snappy', () => compressSync(protobufjs()).length],
    ['WriteRequestWriter + snappy', () => compressSync(handWritten()).length],
  ];
  for (const [name, fn] of cases) {
    for (let i = 0; i < 300; i++) fn(); // warm up
    const started = process.hrtime.bigint();
    let bytes = 0;
    for (let i = 0; i < rounds; i++) bytes = fn();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    console.log(`encode ${name.padEnd(28)} ${fmt((rounds * 2_000) / seconds).padStart(12)} samples/s  (${bytes} B per request)`);
  }
}

async function benchSenderCpu(): Promise<void> {
  const labels = seriesLabels(5_000);
  const windows = quick ? 40 : 200;
  let delivered = 0;
  const send: SendFunction = async () => ({ kind: 'success', status: 204 });
  const sender = new TenantSender({
    tenant: 'bench',
    config: config({ endpoint: 'http://127.0.0.1:1/api/v1/write', batch: { max_delay: '5ms' } }),
    logger: silent,
    send,
    events: { sent: (_t, n) => void (delivered += n), failed() {}, retried() {}, queued() {} },
  });
  const ts0 = Date.now();
  for (let k = 0; k < 5; k++) sender.write(window(labels, ts0 + k, k)); // warm up the catalog and the JIT
  await sender.flush();
  delivered = 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  for (let k = 0; k < windows; k++) {
    sender.write(window(labels, ts0 + 1_000 + k, k));
    if (k % 10 === 9) await sender.flush();
  }
  await sender.flush();
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await sender.close();
  console.log(
    `sender (write→encode→snappy, no HTTP) ${fmt(delivered / seconds)} samples/s wall, ` +
      `${fmt(delivered / ((cpu.user + cpu.system) / 1e6))} samples per CPU-second (${fmt(delivered)} samples)`,
  );
}

async function benchPrometheus(dir: string): Promise<void> {
  const prom = await startPrometheus({ tenant: 'bench', dir: join(dir, 'prometheus'), logFile: join(dir, 'prometheus.log') });
  try {
    const series = 10_000;
    const windows = quick ? 12 : 40;
    const labels = seriesLabels(series);
    let delivered = 0;
    let failed = 0;
    const sender = new TenantSender({
      tenant: 'bench',
      config: config({ endpoint: prom.remoteWriteUrl, shards: 4, batch: { max_samples: 2_000, max_delay: '50ms' } }),
      logger: silent,
      events: { sent: (_t, n) => void (delivered += n), failed: (_t, n) => void (failed += n), retried() {}, queued() {} },
    });
    const ts0 = Math.floor(Date.now() / 1000) * 1000 - windows * 1000;
    const cpu0 = process.cpuUsage();
    const started = performance.now();
    for (let k = 0; k < windows; k++) sender.write(window(labels, ts0 + k * 1000, k));
    await sender.flush();
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpu0);
    await sender.close();
    const stored = await queryInstant(prom.url, `count(count_over_time(bench_requests_total[${windows + 60}s]))`);
    console.log(
      `to a real Prometheus: ${fmt(delivered / seconds)} samples/s (${fmt(delivered)} samples, ${failed} failed, ` +
        `${series} series × ${windows} windows, 4 shards × 2000/request); sink CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s ` +
        `= ${fmt(delivered / ((cpu.user + cpu.system) / 1e6))} samples per CPU-second; series stored: ${stored[0]?.value}`,
    );
  } finally {
    await prom.stop();
  }
}

async function benchQueuedMemory(): Promise<void> {
  const series = 10_000;
  const windows = quick ? 20 : 100;
  const labels = seriesLabels(series, 'bench_mem_total');
  const sender = new TenantSender({
    tenant: 'bench',
    // Port 1: connection refused, retried with backoff: everything stays queued.
    config: config({ endpoint: 'http://127.0.0.1:1/api/v1/write', backlog: { max_samples: 100_000_000 }, retry: { initial_backoff: '1s', max_backoff: '5s' } }),
    logger: silent,
  });
  // The catalog (per-series state) is built by the first window; measure the queue beyond it.
  sender.write(window(labels, 1_000, 0));
  await new Promise((resolve) => setTimeout(resolve, 50));
  gc();
  const before = process.memoryUsage();
  const queuedBefore = sender.backlog;
  for (let k = 1; k < windows; k++) sender.write(window(labels, 1_000 + k * 1000, k));
  gc();
  const after = process.memoryUsage();
  const queued = sender.backlog - queuedBefore;
  const heap = after.heapUsed - before.heapUsed;
  const total = heap + (after.arrayBuffers - before.arrayBuffers);
  console.log(
    `memory per queued sample (receiver down): ${(total / queued).toFixed(1)} B ` +
      `(heap ${(heap / queued).toFixed(1)} B + typed arrays ${((after.arrayBuffers - before.arrayBuffers) / queued).toFixed(1)} B; ` +
      `${fmt(queued)} samples of ${series} series queued)`,
  );
  await sender.close(AbortSignal.timeout(10));
}

/**
 * The gateway pipeline's output (see the comment at the top) as metric points, built once per
 * series and reused every window as stage 2 does: request and token counters, a latency
 * histogram of 11 bounds. Remote-write gets them flattened (SampleFlattener: 12 `_bucket`,
 * `_sum`, `_count` per histogram); `bare` drops descriptors and start times, i.e. only what 1.0
 * can carry. Bytes are per Prometheus sample for every protocol.
 */
type SampleForm = 'full' | 'bare' | 'native';

function gatewayWorkload(): { points: (ts: number, k: number) => MetricPoint[]; samples: (ts: number, k: number, form: SampleForm) => Sample[] } {
  const requests: MetricDescriptor = { name: 'bailian_gateway_requests_total', type: 'counter', unit: '', help: 'Gateway API calls, by result code.' };
  const tokens: MetricDescriptor = { name: 'bailian_gateway_tokens_total', type: 'counter', unit: '{token}', help: 'Tokens in and out.' };
  const latency: MetricDescriptor = { name: 'bailian_gateway_latency_seconds', type: 'histogram', unit: 's', help: 'End-to-end call latency.' };
  const bounds = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80];
  const series: { labels: Label[]; metric: MetricDescriptor }[] = [];
  const sorted = (l: Record<string, string>): Label[] =>
    Object.entries(l)
      .map(([name, value]) => ({ name, value }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let app = 0; app < 20; app++) {
    for (let model = 0; model < 12; model++) {
      for (const api of ['chat.completions', 'embeddings', 'rerank']) {
        const base = { api, app: `app-${app}`, model: ['qwen-plus', 'qwen-max', 'qwen-turbo', 'qwen-long'][model % 4]! + `-${model}`, tenant: 'acme' };
        for (const code of ['200', '429']) series.push({ labels: sorted({ ...base, code }), metric: requests });
        for (const direction of ['input', 'output']) series.push({ labels: sorted({ ...base, direction }), metric: tokens });
        series.push({ labels: sorted(base), metric: latency });
      }
    }
  }
  const start = 1_700_000_000_000;
  const points = (ts: number, k: number): MetricPoint[] =>
    series.map(({ labels, metric }, i) => {
      if (metric.type !== 'histogram') return { metric, labels, timestampMs: ts, startTimestampMs: start, value: k * 37 + (i % 101) };
      const bucketCounts = [...bounds, Infinity].map((_, b) => k * 5 + ((i + b) % 13));
      const count = bucketCounts.reduce((a, b) => a + b, 0);
      return { metric, labels, timestampMs: ts, startTimestampMs: start, value: { bounds, bucketCounts, count, sum: count * 0.42 } };
    });
  const flattener = new SampleFlattener();
  const samples = (ts: number, k: number, form: SampleForm): Sample[] => {
    const flat = flattener.flatten(points(ts, k), [], form === 'native');
    return form === 'bare' ? flat.map(({ labels, value, timestampMs }) => ({ labels, value, timestampMs })) : flat;
  };
  return { points, samples };
}

interface ProtocolRow {
  readonly protocol: string;
  readonly bytesPerSample: number;
  readonly perCpuSecond: number;
}

async function benchRemoteWriteProtocol(name: string, protocol: 'v1' | 'v2', form: SampleForm, windows: number): Promise<ProtocolRow> {
  const workload = gatewayWorkload();
  // Per Prometheus sample the window stands for (a native histogram stands for its classic series).
  const represented = workload.samples(0, 0, 'full').length * windows;
  let bytes = 0;
  let delivered = 0;
  // An instant in-process receiver that confirms every sample (so v2's written check passes).
  const send: SendFunction = async (_config, body) => {
    bytes += body.length;
    return { kind: 'success', status: 204, written: { samples: Number.MAX_SAFE_INTEGER, histograms: 0, exemplars: 0 } };
  };
  const sender = new TenantSender({
    tenant: 'bench',
    config: config({ endpoint: 'http://127.0.0.1:1/api/v1/write', protocol, batch: { max_delay: '5ms' } }),
    logger: silent,
    send,
    events: { sent: (_t, n) => void (delivered += n), failed() {}, retried() {}, queued() {} },
  });
  const ts0 = 1_700_000_600_000;
  const prepared = Array.from({ length: windows + 3 }, (_, k) => workload.samples(ts0 + k * 10_000, k, form));
  for (let k = 0; k < 3; k++) sender.write(prepared[k]!); // warm up
  await sender.flush();
  bytes = 0;
  delivered = 0;
  const cpu0 = process.cpuUsage();
  for (let k = 3; k < windows + 3; k++) {
    sender.write(prepared[k]!);
    await sender.flush();
  }
  const cpu = process.cpuUsage(cpu0);
  await sender.close();
  if (delivered !== prepared.slice(3).reduce((n, w) => n + w.length, 0)) throw new Error(`${name}: not every sample was delivered`);
  return { protocol: name, bytesPerSample: bytes / represented, perCpuSecond: represented / ((cpu.user + cpu.system) / 1e6) };
}

/** The same points through the OTLP sink (protobuf + gzip, its default), per Prometheus sample they stand for. */
async function benchOtlp(windows: number): Promise<ProtocolRow> {
  const workload = gatewayWorkload();
  let bytes = 0;
  const section = tenantsConfigSchema.parse({ bench: { sink: { type: 'otlp', endpoint: 'http://127.0.0.1:9/otlp', batch: { max_delay: '5ms' } } } });
  const sink = new OtlpSink(section.tenants as Record<string, OtlpTenant>, {
    logger: silent,
    send: async (_target, body) => {
      bytes += body.byteLength;
      return { kind: 'success', status: 200 };
    },
  });
  const ts0 = 1_700_000_600_000;
  const prepared = Array.from({ length: windows + 3 }, (_, k) => workload.points(ts0 + k * 10_000, k));
  const flattener = new SampleFlattener();
  const perWindow = flattener.flatten(prepared[0]!).length;
  for (let k = 0; k < 3; k++) await new Promise((resolve) => sink.write('bench', prepared[k]!, resolve)); // warm up
  bytes = 0;
  const cpu0 = process.cpuUsage();
  for (let k = 3; k < windows + 3; k++) await new Promise((resolve) => sink.write('bench', prepared[k]!, resolve));
  const cpu = process.cpuUsage(cpu0);
  await sink.close();
  const samples = perWindow * windows;
  return { protocol: 'otlp', bytesPerSample: bytes / samples, perCpuSecond: samples / ((cpu.user + cpu.system) / 1e6) };
}

async function benchProtocols(): Promise<void> {
  const windows = quick ? 10 : 40;
  const rows = [
    await benchRemoteWriteProtocol('v1', 'v1', 'full', windows),
    await benchRemoteWriteProtocol('v2', 'v2', 'full', windows),
    await benchRemoteWriteProtocol('v2 bare', 'v2', 'bare', windows),
    await benchRemoteWriteProtocol('v2 nhcb', 'v2', 'native', windows),
    await benchOtlp(windows),
  ];
  const [v1, v2, bare, nhcb] = rows as [ProtocolRow, ProtocolRow, ProtocolRow, ProtocolRow];
  const ratio = (r: ProtocolRow) => (100 * r.bytesPerSample) / v1.bytesPerSample;
  const perWindow = gatewayWorkload().samples(0, 0, 'full').length;
  console.log(`gateway workload (${fmt(perWindow)} samples per window × ${windows} windows; remote-write 2000 samples/request + snappy, OTLP protobuf + gzip):`);
  console.log('  protocol  bytes/sample  samples per CPU-second  bytes vs v1');
  for (const r of rows) {
    console.log(`  ${r.protocol.padEnd(8)}  ${r.bytesPerSample.toFixed(2).padStart(12)}  ${fmt(r.perCpuSecond).padStart(22)}  ${ratio(r).toFixed(1).padStart(9)} %`);
  }
  console.log(
    `  v2/v1 bytes: ${ratio(v2).toFixed(1)} % (${(100 - ratio(v2)).toFixed(1)} % fewer, carrying metadata and start times 1.0 has not); ` +
      `the same content as 1.0 (v2 bare): ${(100 - ratio(bare)).toFixed(1)} % fewer`,
  );
  console.log(`  v2 with histograms: native_custom_buckets: ${(100 - (100 * nhcb.bytesPerSample) / v2.bytesPerSample).toFixed(1)} % fewer bytes than v2 classic (per classic sample represented)`);
}

/** A remote-write receiver in a child process (so its CPU is not the sink's): answers 204 to every request, confirming (2.0) all it was sent. */
async function childReceiver(dir: string): Promise<{ url: string; stop: () => void }> {
  const script = join(dir, 'receiver.mjs');
  writeFileSync(
    script,
    "import { createServer } from 'node:http';\n" +
      "const written = { 'x-prometheus-remote-write-samples-written': '1000000000', 'x-prometheus-remote-write-histograms-written': '1000000000' };\n" +
      "const server = createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(204, written); res.end(); }); });\n" +
      "server.listen(0, '127.0.0.1', () => process.send(server.address().port));\n",
  );
  const child = fork(script);
  const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(m as number)));
  return { url: `http://127.0.0.1:${port}/api/v1/write`, stop: () => void child.kill() };
}

async function benchPoints(dir: string): Promise<void> {
  const receiver = await childReceiver(dir);
  const windows = quick ? 20 : 80;
  const workload = gatewayWorkload();
  try {
    for (const protocol of ['v1', 'v2'] as const) {
      let delivered = 0;
      let bytes = 0;
      const section = tenantsConfigSchema.parse({ bench: { endpoint: receiver.url, protocol, batch: { max_delay: '5ms' } } });
      const sink = new RemoteWriteSink(section as ConstructorParameters<typeof RemoteWriteSink>[0], {
        logger: silent,
        events: { sent: (_t, n) => void (delivered += n), request: (_t, _s, _k, size) => void (bytes += size), failed() {}, retried() {}, queued() {} },
      });
      const points = new RemoteWritePointSink(sink);
      const ts0 = 1_700_000_600_000;
      for (let k = 0; k < 3; k++) {
        points.write('bench', workload.points(ts0 + k * 10_000, k)); // warm up
        await points.flush();
      }
      delivered = 0;
      bytes = 0;
      let cpuMicros = 0;
      for (let k = 3; k < windows + 3; k++) {
        const window = workload.points(ts0 + k * 10_000, k); // stage 2's fresh points, outside the measure
        const cpu0 = process.cpuUsage();
        points.write('bench', window);
        await points.flush();
        const cpu = process.cpuUsage(cpu0);
        cpuMicros += cpu.user + cpu.system;
      }
      await points.close();
      console.log(
        `points → sink → HTTP (${protocol}): ${(cpuMicros / delivered).toFixed(3)} CPU-µs per sample, ` +
          `${(bytes / delivered).toFixed(2)} B per sample (${fmt(delivered)} samples, ${windows} windows)`,
      );
    }
  } finally {
    receiver.stop();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'sluice-rw-bench-'));
try {
  console.log(`remote-write bench (node ${process.version}${quick ? ', quick' : ''})`);
  // SLUICE_BENCH_ONLY=protocols|sender|points runs one part (the end-to-end part needs Prometheus 2.x on PATH).
  const only = process.env.SLUICE_BENCH_ONLY;
  if (only === 'protocols' || only === 'sender' || only === 'points') {
    await (only === 'protocols' ? benchProtocols() : only === 'sender' ? benchSenderCpu() : benchPoints(dir));
    process.exit(0);
  }
  benchEncode();
  await benchSenderCpu();
  await benchPrometheus(dir);
  await benchQueuedMemory();
  await benchProtocols();
  await benchPoints(dir);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
