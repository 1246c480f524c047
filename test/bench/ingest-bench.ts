/**
 * In-process CPU of stage 1's per-record front on the gateway pipeline, without Kafka: decode
 * (with the Avro contract), transforms (CEL), tenant and event time (`Ingest`), then the series
 * keys of every metric group (`seriesReader`), the combiner (`PreAggregator.add`: series keys
 * plus the partials they find), and a flush's partials wire (encode + stage-2 partition, per
 * partial). Prints CPU-µs per record (per partial for the wire) of each part (process user +
 * system CPU, best of a few rounds, since a shared machine is noisy): the figures each CPU
 * optimisation of issue 12 quotes before and after.
 *
 *   node --import tsx test/bench/ingest-bench.ts [--records 200000] [--rounds 5] [--alloc]
 *
 * `--alloc` also prints the bytes the ingest and the combiner allocate per record (one more round
 * of each under V8's sampling heap profiler, counting objects scavenged since: its garbage).
 *
 * Where stage 1's CPU went after the combiner and constant-lookup work (100k records, machine
 * load 5-14): JSON.parse is 5.2 of decode's 5.4 µs (the Avro contract, avsc's per-schema
 * generated checker, 0.28 µs; UTF-8 and lone-surrogate checks 0.35 µs), so a selective parse
 * would have to beat V8's native parser over all 538 B to pay (it later did, below); the three
 * compute transforms 2.1 µs; in the combiner, metric reads 2.4-2.9 µs (metric filters 1.2, drift
 * reads 0.9), series keys 1.5-2, pane lookup and accumulator adds (drift 0.9) the rest.
 *
 * Issue 12, stage 1 per record (machine load 6-12, so process pairs of this bench swing ±25 % on
 * parts no change touched; figures below from one process that loads both trees and takes turns
 * round by round, run once each way round so the second-loaded tree's bias cancels):
 *  - ASCII messages read by `isAscii` + latin1 instead of `isUtf8` + UTF-8 decode: ingest ×0.95.
 *  - The Avro contract as a generated check (codecs/avro/compiled-check.ts): ingest ×0.965
 *    (microbench, one gateway log: avsc `isValid` 165-239 ns, the generated check 50-78 ns).
 *  - Only the fields the pipeline reads, read from the message's bytes (codecs/json/flat-scanner.ts;
 *    13 of a gateway log's 20 fields): ingest 4.13, 4.17, 2.89 and 3.49 against 5.73, 5.08, 5.57
 *    and 4.57 CPU-µs per record (processes taking turns, 100k records), ×0.70 of the means.
 *  - Tried and reverted: PreAggregator.add as one generated straight-line function over the
 *    groups (combiner ×1.09, slower); a Float64Array for a group's numeric inputs instead of
 *    the mixed `values` array (the combiner's ~60 B per record allocated in readGroup did not
 *    move: it is the reads' own numbers, not the array's).
 *  - Issue 10's floor, stage 1 alone (scores-bench's group, 50k records, 28 paired rounds): a
 *    no-op drift metric ×0.97-1.0 of the combiner, a fifth gauge ×1.08 (~40 ns per record);
 *    so most of scores-bench's `--floor noop` (+4 to +8.5 %) is outside stage 1.
 */
import { fileURLToPath } from 'node:url';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { loadPipelineFile } from '../../src/config/load.ts';
import { Ingest, IngestedBatch } from '../../src/runtime/ingest.ts';
import { planMetrics, planWindowing } from '../../src/operators/windowed-metrics/plan.ts';
import { PreAggregator } from '../../src/operators/windowed-metrics/pre-aggregator.ts';
import { groupKeyPrefix, isSeriesId, seriesReader } from '../../src/operators/windowed-metrics/series-key.ts';
import { encodePartial, SeriesPartitions } from '../../src/runtime/repartition-codec.ts';
import { generateGatewayLogs } from '../support/gateway-traffic.ts';

const { values } = parseArgs({ options: { records: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '5' }, alloc: { type: 'boolean', default: false } } });
const count = Number(values.records);
const rounds = Number(values.rounds);

const loaded = await loadPipelineFile(fileURLToPath(new URL('../../pipelines/bailian-gateway.yaml', import.meta.url)));
const ingest = new Ingest(loaded);
const groups = planMetrics(loaded.config.metrics);
const readers = groups.map((group, g) => seriesReader(group, groupKeyPrefix(g)));
const messages = [...generateGatewayLogs({ seed: 42, tenants: ['acme', 'globex', 'initech'], startMs: Date.now() - 600_000, spanMs: 600_000, count })].map((record) =>
  Buffer.from(JSON.stringify(record)),
);
const context = { key: null, headers: {} };

function cpuMicros(work: () => void): number {
  let best = Infinity;
  for (let round = 0; round < rounds; round++) {
    const before = process.cpuUsage();
    work();
    const { user, system } = process.cpuUsage(before);
    best = Math.min(best, (user + system) / count);
  }
  return best;
}

// As a source task ingests: into one batch, reused message after message.
const batch = new IngestedBatch();
const ingested = { tenants: new Array<string>(count), eventTimes: new Array<number>(count).fill(0), records: new Array<Record<string, unknown>>(count) };
let ingestedCount = 0;
function ingestAll(): void {
  ingestedCount = 0;
  for (const message of messages) {
    if (ingest.ingestInto(message, context, batch) !== undefined) continue;
    for (let i = 0; i < batch.count; i++, ingestedCount++) {
      ingested.tenants[ingestedCount] = batch.tenants[i]!;
      ingested.eventTimes[ingestedCount] = batch.eventTimes[i]!;
      ingested.records[ingestedCount] = batch.records[i]!;
    }
  }
}
const ingestMicros = cpuMicros(ingestAll);
if (ingestedCount !== count) throw new Error(`ingested ${ingestedCount} of ${count}`);
let keys = 0;
const seriesMicros = cpuMicros(() => {
  keys = 0;
  for (let i = 0; i < count; i++) {
    for (let g = 0; g < groups.length; g++) if (isSeriesId(readers[g]!(ingested.tenants[i]!, ingested.records[i]!))) keys++;
  }
});
if (keys !== count * groups.length) throw new Error(`${keys} series keys, want ${count * groups.length}`);
function combineAll(combiner: PreAggregator): PreAggregator {
  for (let i = 0; i < count; i++) if (combiner.add(ingested.tenants[i]!, ingested.eventTimes[i]!, ingested.records[i]!) !== undefined) throw new Error('rejected');
  return combiner;
}
const combinerMicros = cpuMicros(() => combineAll(new PreAggregator(groups, planWindowing(loaded.config.window))));
// A flush: every partial encoded for the partials topic and its stage-2 partition found, as a task does.
const drained = combineAll(new PreAggregator(groups, planWindowing(loaded.config.window))).drain();
const partitions = new SeriesPartitions(loaded.config.repartition.partitions);
let wireBytes = 0;
let partitionSum = 0; // read below, so the lookups are not dead code
const flushMicros =
  (cpuMicros(() => {
    wireBytes = 0;
    for (const partial of drained) {
      wireBytes += encodePartial(partial, groups).length;
      partitionSum += partitions.of(partial.key);
    }
  }) *
    count) /
  drained.length;
if (partitionSum < 0) throw new Error('a negative partition');
process.stdout.write(`ingest (decode + contract + CEL + tenant + time): ${ingestMicros.toFixed(2)} CPU-µs/record\n`);
process.stdout.write(`series keys (${groups.length} groups)              : ${seriesMicros.toFixed(2)} CPU-µs/record\n`);
process.stdout.write(`combiner (series keys + partials)             : ${combinerMicros.toFixed(2)} CPU-µs/record\n`);
process.stdout.write(`partials wire (encode + partition)            : ${flushMicros.toFixed(2)} CPU-µs/partial (${drained.length} partials, ${Math.round(wireBytes / drained.length)} B each)\n`);

if (values.alloc) {
  const session = new Session();
  session.connect();
  /** Bytes allocated per record by one round of `work`, garbage included (sampled every 64 B on average). */
  const allocated = async (work: () => void): Promise<number> => {
    await session.post('HeapProfiler.startSampling', { samplingInterval: 64, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
    work();
    const { profile } = await session.post('HeapProfiler.stopSampling');
    let bytes = 0;
    const visit = (node: typeof profile.head): void => {
      bytes += node.selfSize;
      for (const child of node.children) visit(child);
    };
    visit(profile.head);
    return bytes / count;
  };
  const ingestBytes = await allocated(ingestAll);
  // Panes already held: what each record allocates, not the new partials of a fresh flush.
  const warm = combineAll(new PreAggregator(groups, planWindowing(loaded.config.window)));
  const combinerBytes = await allocated(() => combineAll(warm));
  process.stdout.write(`allocated: ingest ${ingestBytes.toFixed(0)} B/record (JSON.parse's record and string included), combiner ${combinerBytes.toFixed(0)} B/record\n`);
  session.disconnect();
}
