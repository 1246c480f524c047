/**
 * CPU of the gateway pipeline's CEL per record, without Kafka or the rest of stage 1: the
 * `compute` transforms (cost with the `prices` constants, tpot_seconds, is_error, one record scope
 * of the cost meter each) and the metric filters (`error_code != null && error_code.startsWith(…)`,
 * `error_code == "…"`, `stream && http_status == 200.0`, `tpot_seconds >= 0.0`), each filter as
 * its metric calls it. Records are parsed afresh (not timed), so the compute transforms meet
 * records of the shape decode gives and add their fields, as in the pipeline.
 * Prints CPU-µs per record of each part (process user + system CPU, best of the rounds).
 *
 *   node --import tsx test/bench/cel-bench.ts [--records 200000] [--rounds 7]
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadPipelineFile } from '../../src/config/load.ts';
import { compileExpression } from '../../src/operators/transforms/expression.ts';
import { compileTransforms } from '../../src/operators/transforms/index.ts';
import { generateGatewayLogs } from '../support/gateway-traffic.ts';

const { values } = parseArgs({ options: { records: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '7' } } });
const count = Number(values.records);
const rounds = Number(values.rounds);

const loaded = await loadPipelineFile(fileURLToPath(new URL('../../pipelines/bailian-gateway.yaml', import.meta.url)));
const transform = compileTransforms(loaded.config.transforms, loaded.config.constants, loaded.config.expression_budget)!;
const filters = loaded.config.metrics.flatMap((metric) => ('filter' in metric && metric.filter !== undefined ? [compileExpression(metric.filter)] : []));
const texts = [...generateGatewayLogs({ seed: 42, tenants: ['acme', 'globex', 'initech'], startMs: Date.now() - 600_000, spanMs: 600_000, count })].map((record) =>
  JSON.stringify(record),
);

function cpu(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/*
 * Records are parsed and evaluated in batches of BATCH, as a fetched batch is decoded and then
 * transformed: the records are in the CPU's caches when CEL reads them, as in the pipeline. All
 * 200k parsed first and then evaluated would time cache misses (a record read cost 20 ns).
 */
const BATCH = 256;
let records: Record<string, unknown>[] = [];
let computeBest = Infinity;
let filterBest = Infinity;
let kept = 0;
for (let round = 0; round < rounds; round++) {
  records = [];
  let computeCpu = 0;
  let filterCpu = 0;
  kept = 0;
  for (let from = 0; from < count; from += BATCH) {
    const batch = texts.slice(from, from + BATCH).map((text) => JSON.parse(text) as Record<string, unknown>);
    let start = cpu();
    for (let i = 0; i < batch.length; i++) if (transform(batch[i]!) !== 'keep') throw new Error('a record was not kept');
    computeCpu += cpu() - start;
    start = cpu();
    for (let i = 0; i < batch.length; i++) {
      const record = batch[i]!;
      for (let f = 0; f < filters.length; f++) if (filters[f]!(record) === true) kept++;
    }
    filterCpu += cpu() - start;
    if (round === rounds - 1) records.push(...batch);
  }
  computeBest = Math.min(computeBest, computeCpu / count);
  filterBest = Math.min(filterBest, filterCpu / count);
}
let costSum = 0; // read below, so the computed fields are checked, not dead
for (const record of records) costSum += record.cost as number;
if (!(costSum > 0) || kept === 0) throw new Error(`cost sum ${costSum}, ${kept} filters true`);
process.stdout.write(`compute transforms (3 fields)    : ${computeBest.toFixed(3)} CPU-µs/record\n`);
process.stdout.write(`metric filters (${filters.length}, ${(kept / count).toFixed(2)} true per record): ${filterBest.toFixed(3)} CPU-µs/record\n`);
