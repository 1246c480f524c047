/**
 * Instructions instead of seconds: stage 1's in-process path (ingest-bench.ts: decode, transforms,
 * series keys, combiner, partials wire) counted by valgrind's callgrind. On this shared 2-core
 * machine a process's CPU time moves by a third between identical runs, and a pair of runs at the
 * same time by ±15 %; two identical callgrind runs differed by 2.5 % in their totals. Instructions
 * are not cycles (cache misses and stalls do not show), so a change that this confirms still wants
 * its CPU figure from `npm run bench`.
 *
 *   node --import tsx test/bench/instructions.ts [--records 20000] [-- node-flag ...]
 *
 * It runs ingest-bench twice at once, with one round and with three, and prints the instructions
 * of the two extra rounds per record: start-up, generating the input and the first round's
 * warm-up are in both runs and cancel. Each run takes minutes (callgrind runs ~50× slower).
 *
 * Measured with it (20k records, run at the same time): 83,638 instructions per record without node
 * flags, 121,244 with `--always-sparkplug` (test/bench/README.md).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';

const { values, positionals: nodeFlags } = parseArgs({ options: { records: { type: 'string', default: '20000' } }, allowPositionals: true });
const records = Number(values.records);
const harness = fileURLToPath(new URL('./ingest-bench.ts', import.meta.url));
const outDir = mkdtempSync(join(tmpdir(), 'sluice-instructions-'));

/** Total instructions callgrind counted in one ingest-bench run of `rounds` rounds. */
async function instructions(rounds: number): Promise<number> {
  const args = ['--tool=callgrind', '--smc-check=all-non-file', `--callgrind-out-file=${join(outDir, `rounds-${rounds}.out`)}`];
  const command = [process.execPath, ...nodeFlags, '--import', 'tsx', harness, '--records', String(records), '--rounds', String(rounds)];
  // valgrind reports on stderr: "==pid== Collected : 12705006479".
  const { stderr } = await promisify(execFile)('valgrind', [...args, ...command], { maxBuffer: 16 * 1024 * 1024, timeout: 60 * 60_000 });
  const collected = /Collected : (\d+)/.exec(stderr);
  if (!collected) throw new Error(`callgrind printed no instruction count:\n${stderr.slice(-2000)}`);
  return Number(collected[1]);
}

try {
  const [one, three] = await Promise.all([instructions(1), instructions(3)]);
  const perRecord = (three - one) / (2 * records);
  const flags = nodeFlags.length > 0 ? nodeFlags.join(' ') : 'no node flags';
  process.stdout.write(`${flags}: ${Math.round(perRecord).toLocaleString('en-US')} instructions per record in stage 1's steady state `);
  process.stdout.write(`(runs of 1 and 3 rounds over ${records.toLocaleString('en-US')} records: ${(one / 1e9).toFixed(2)} and ${(three / 1e9).toFixed(2)} G)\n`);
} finally {
  rmSync(outDir, { recursive: true, force: true });
}
