/**
 * In-process CPU of stage 1's per-record front on the gateway pipeline, without Kafka: decode
 * (with the Avro contract), transforms (CEL), tenant and event time (`Ingest`), then the series
 * keys of every metric group (`seriesReader`), the combiner (`PreAggregator.add`: series keys
 * plus the partials they find), and a flush's partials wire (encode + stage-2 partition, per
 * partial). Prints CPU-µs per record (per partial for the wire) of each part (process user +
 * system CPU, best of a few rounds, since a shared machine is noisy): the figures each CPU
 * optimisation of issue 12 quotes before and after.
 *
 *   node --import tsx test/bench/ingest-bench.ts [--records 200000] [--rounds 5]
 *
 * Where stage 1's CPU went after the combiner and constant-lookup work (100k records, machine
 * load 5-14): JSON.parse is 5.2 of decode's 5.4 µs (the Avro contract, avsc's per-schema
 * generated checker, 0.28 µs; UTF-8 and lone-surrogate checks 0.35 µs), so a selective parse
 * would have to beat V8's native parser over all 538 B to pay, and was not attempted; the three
 * compute transforms 2.1 µs; in the combiner, metric reads 2.4-2.9 µs (metric filters 1.2, drift
 * reads 0.9), series keys 1.5-2, pane lookup and accumulator adds (drift 0.9) the rest.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadPipelineFile } from '../../src/config/load.ts';
import { Ingest, type Ingested } from '../../src/runtime/ingest.ts';
import { planMetrics, planWindowing } from '../../src/operators/windowed-metrics/plan.ts';
import { PreAggregator } from '../../src/operators/windowed-metrics/pre-aggregator.ts';
import { groupKeyPrefix, isSeriesId, seriesReader } from '../../src/operators/windowed-metrics/series-key.ts';
import { encodePartial, SeriesPartitions } from '../../src/runtime/repartition-codec.ts';
import { generateGatewayLogs } from '../support/gateway-traffic.ts';

const { values } = parseArgs({ options: { records: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '5' } } });
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

let ingested: Ingested[] = [];
const ingestMicros = cpuMicros(() => {
  ingested = [];
  for (const message of messages) {
    const outcome = ingest.ingest(message, context);
    if ('records' in outcome) for (const record of outcome.records) ingested.push(record);
  }
});
if (ingested.length !== count) throw new Error(`ingested ${ingested.length} of ${count}`);
let keys = 0;
const seriesMicros = cpuMicros(() => {
  keys = 0;
  for (const { tenant, record } of ingested) {
    for (let g = 0; g < groups.length; g++) if (isSeriesId(readers[g]!(tenant, record))) keys++;
  }
});
if (keys !== count * groups.length) throw new Error(`${keys} series keys, want ${count * groups.length}`);
const combinerMicros = cpuMicros(() => {
  const combiner = new PreAggregator(groups, planWindowing(loaded.config.window));
  for (const { tenant, eventTimeMs, record } of ingested) if (combiner.add(tenant, eventTimeMs, record) !== undefined) throw new Error('rejected');
});
// A flush: every partial encoded for the partials topic and its stage-2 partition found, as a task does.
const drained = (() => {
  const combiner = new PreAggregator(groups, planWindowing(loaded.config.window));
  for (const { tenant, eventTimeMs, record } of ingested) combiner.add(tenant, eventTimeMs, record);
  return combiner.drain();
})();
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
