/**
 * CPU of the gateway pipeline's CEL per record, without Kafka or the rest of stage 1: the
 * `compute` transforms (cost with the `prices` constants, tpot_seconds, is_error, one record scope
 * of the cost meter each) and the metric filters (`error_code != null && error_code.startsWith(…)`,
 * `error_code == "…"`, `stream && http_status == 200.0`, `tpot_seconds >= 0.0`), each filter as
 * its metric calls it. Records are parsed afresh before each round (not timed), so the compute
 * transforms meet records of the shape decode gives and add their fields, as in the pipeline.
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

let records: Record<string, unknown>[] = [];
let computeBest = Infinity;
let filterBest = Infinity;
let kept = 0;
for (let round = 0; round < rounds; round++) {
  records = texts.map((text) => JSON.parse(text) as Record<string, unknown>);
  let start = cpu();
  for (let i = 0; i < records.length; i++) if (transform(records[i]!) !== 'keep') throw new Error('a record was not kept');
  computeBest = Math.min(computeBest, (cpu() - start) / count);
  kept = 0;
  start = cpu();
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    for (let f = 0; f < filters.length; f++) if (filters[f]!(record) === true) kept++;
  }
  filterBest = Math.min(filterBest, (cpu() - start) / count);
}
let costSum = 0; // read below, so the computed fields are checked, not dead
for (const record of records) costSum += record.cost as number;
if (!(costSum > 0) || kept === 0) throw new Error(`cost sum ${costSum}, ${kept} filters true`);
process.stdout.write(`compute transforms (3 fields)    : ${computeBest.toFixed(3)} CPU-µs/record\n`);
process.stdout.write(`metric filters (${filters.length}, ${(kept / count).toFixed(2)} true per record): ${filterBest.toFixed(3)} CPU-µs/record\n`);
