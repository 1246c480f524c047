/**
 * What tapping costs the decode path (issue 13 item 2: "costs nothing when nobody taps"). One
 * JSON call log per message, decoded by the bare decoder, by the tapped decoder with nobody
 * tapping (the hook's boolean test), with a client tapping another pipeline (the flag is up, the
 * hub filters), and with a client tapping this one (10 events/s sampled, the rest skipped). Best
 * of 5 rounds, CPU ns per message. Standalone: `node --import tsx test/bench/tap-bench.ts`.
 */
import { createDecoder } from '../../src/codecs/index.ts';
import { EMPTY_CONTEXT, type Decoder } from '../../src/codecs/decoder.ts';
import { taps } from '../../src/telemetry/tap/hub.ts';
import { tappedDecoder } from '../../src/telemetry/tap/offer.ts';

const MESSAGES = 200_000;
const ROUNDS = 5;
const say = (line: string) => process.stdout.write(`${line}\n`);

const messages = Array.from({ length: 1_000 }, (_, i) =>
  Buffer.from(JSON.stringify({ ts: 1_764_000_000_000 + i, tenant_id: `t${i % 7}`, model: `qwen-${i % 5}`, input_tokens: i, output_tokens: 2 * i, latency_ms: i % 900, prompt: 'hello there' })),
);
const bare = createDecoder({ codec: 'json' } as never, { baseDir: '.' });
const tapped = tappedDecoder('bench', bare);

function nsPerMessage(decoder: Decoder): number {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < ROUNDS; round++) {
    const cpu = process.cpuUsage();
    let records = 0;
    for (let i = 0; i < MESSAGES; i++) {
      const outcome = decoder.decode(messages[i % messages.length]!, EMPTY_CONTEXT);
      if (outcome.ok) records += outcome.records.length;
    }
    const used = process.cpuUsage(cpu);
    if (records !== MESSAGES) throw new Error(`decoded ${records} of ${MESSAGES}`);
    best = Math.min(best, ((used.user + used.system) * 1000) / MESSAGES);
  }
  return best;
}

const rows: [string, number][] = [];
rows.push(['bare decoder', nsPerMessage(bare)]);
rows.push(['tapped, nobody taps', nsPerMessage(tapped)]);
const other = taps.subscribe({ pipeline: 'another', point: 'decode', perSecond: 10 }, () => {});
rows.push(['tapped, another pipeline tapped', nsPerMessage(tapped)]);
other.close();
let taken = 0;
const mine = taps.subscribe({ pipeline: 'bench', point: 'decode', perSecond: 10 }, () => taken++);
rows.push(['tapped, this pipeline tapped (10/s)', nsPerMessage(tapped)]);
mine.close();

say(`tap cost on decode: ${MESSAGES} JSON call logs a round, best of ${ROUNDS}, CPU ns per message (events taken: ${taken})`);
for (const [name, ns] of rows) say(`  ${name.padEnd(38)} ${ns.toFixed(0).padStart(6)} ns  (${((ns / rows[0]![1] - 1) * 100).toFixed(1)}% vs bare)`);
