import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { replayCommand } from '../../src/cli/replay.ts';
import { generateGatewayLogs, type GatewayCallLog } from '../support/gateway-traffic.ts';
import { createTopic, produce, testKafka, type PartitionedMessage } from '../support/kafka-io.ts';
import { TEST_TENANTS } from '../stack/index.ts';
import { scratchDir } from '../support/scratch-dir.ts';

/**
 * `sluice replay --dry-run` against the real broker: records written before, inside and after a
 * time range (Kafka timestamps set by the producer), found by timestamp, replayed through the
 * pipeline's code into a JSON-lines file; nothing committed, the throwaway group removed.
 */
const stack = inject('stack');
const repo = fileURLToPath(new URL('../..', import.meta.url));
const run = Math.random().toString(36).slice(2, 8);
const TOPIC = `replay.gateway.${run}`;
const GROUP = `sluice-replay-test-${run}`;
const PARTITIONS = 3;
const HOUR = 3_600_000;
// Record (and Kafka) times: three hours ago, in 10-minute blocks: before / inside / after the range.
const base = Math.floor((Date.now() - 3 * HOUR) / 60_000) * 60_000;
const from = base + 10 * 60_000;
const to = base + 20 * 60_000;

const block = (seed: number, startMs: number, count: number) => [...generateGatewayLogs({ seed, tenants: TEST_TENANTS, startMs, spanMs: 9 * 60_000, count })];
const before = block(1, base, 60);
const inside = block(2, from, 300);
const after = block(3, to, 60);

const kafka = testKafka(stack.brokers, 'replay-test');
let pipelineFile: string;
let outFile: string;

/** The gateway pipeline reading this test's own topic (so other tests' traffic is not in range). */
function pipelineCopy(): string {
  const text = readFileSync(join(repo, 'pipelines/bailian-gateway.yaml'), 'utf8')
    .replace('topics: [bailian.gateway.logs]', `topics: [${TOPIC}]`)
    .replace('group_id: sluice-bailian-gateway', `group_id: ${GROUP}`)
    .replace('${SLUICE_KAFKA_BROKERS:-127.0.0.1:9092}', stack.brokers.join(','))
    .replaceAll('../schemas/', `${join(repo, 'schemas')}/`);
  const dir = scratchDir('replay');
  outFile = join(dir, 'samples.jsonl');
  const file = join(dir, 'pipeline.yaml');
  writeFileSync(file, text);
  return file;
}

function messages(records: readonly GatewayCallLog[], extra: PartitionedMessage[] = []): PartitionedMessage[] {
  const out = records.map((r, i) => ({ partition: i % PARTITIONS, key: r.request_id, value: JSON.stringify(r), timestamp: String(r.timestamp) }));
  return [...out, ...extra];
}

beforeAll(async () => {
  pipelineFile = pipelineCopy();
  await createTopic(kafka, TOPIC, PARTITIONS);
  const malformed = { partition: 1, key: 'bad', value: '{"request_id": "cut', timestamp: String(from + 5 * 60_000) };
  await produce(kafka, TOPIC, [messages(before), messages(inside, [malformed]), messages(after)]);
});


describe('sluice replay --dry-run on the real Kafka', () => {
  it('re-processes exactly the records written in [from, to) into a JSON-lines file, with progress on stderr', { timeout: 150_000 }, async () => {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const code = await replayCommand(
      pipelineFile,
      { from: new Date(from).toISOString(), to: String(to), dryRun: true, out: outFile },
      { stdout: { write: (t: string) => stdout.push(t) }, stderr: { isTTY: false, write: (t: string) => stderr.push(t) } },
    );
    expect(stderr.join('')).not.toMatch(/sluice replay:/);
    expect(code).toBe(0);
    expect(stdout.join('')).toContain(`${inside.length + 1} messages replayed; dead letters: malformed 1\n`);
    expect(stderr[0]).toContain(`replaying bailian-gateway: ${inside.length + 1} records in ${PARTITIONS} partitions`);
    // Not a terminal: plain lines at each tenth, the last one complete.
    expect(stderr.at(-1)).toMatch(new RegExp(`\\[#{20}\\] 100% ${inside.length + 1}/${inside.length + 1} records .* ETA done\\n$`));
    expect(stderr.join('')).not.toContain('\r');

    // Each tenant's final request count per series is the count of its in-range calls, and nothing else.
    const lines = readFileSync(outFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { tenant: string; name: string; labels: Record<string, string>; value: number | null; timestamp: number });
    const finalCounts = new Map<string, number>();
    for (const s of lines) {
      if (s.name !== 'bailian_gateway_requests_total' || s.value === null) continue;
      expect(s.timestamp).toBeGreaterThan(from);
      expect(s.timestamp).toBeLessThanOrEqual(to + 10_000);
      finalCounts.set(`${s.tenant}|${JSON.stringify(s.labels)}`, s.value);
    }
    const expected = new Map<string, number>();
    for (const r of inside) {
      const labels: Record<string, string> = { api: r.api };
      if (r.error_code !== null) labels.error_code = r.error_code;
      labels.http_status = String(r.http_status);
      labels.model = r.model;
      const key = `${r.tenant_id}|${JSON.stringify(labels)}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    expect(new Map([...finalCounts].sort())).toEqual(new Map([...expected].sort()));
  });

  it('counts samples per tenant and metric without --out, and leaves no offsets and no group behind', { timeout: 150_000 }, async () => {
    const stdout: string[] = [];
    const code = await replayCommand(pipelineFile, { from: String(from), to: String(to), dryRun: true }, { stdout: { write: (t: string) => stdout.push(t) }, stderr: { write: () => true } });
    expect(code).toBe(0);
    const text = stdout.join('');
    for (const tenant of new Set(inside.map((r) => r.tenant_id))) expect(text).toMatch(new RegExp(`^tenant ${tenant}: \\d+ samples$`, 'm'));
    expect(text).toMatch(/^ {2}bailian_gateway_requests_total \d+( \(\+\d+ stale markers\))?$/m);

    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
      expect(offsets[0]!.partitions.map((p) => p.offset)).toEqual(Array(PARTITIONS).fill('-1'));
      const groups = (await admin.listGroups()).groups.map((g) => g.groupId);
      expect(groups.filter((g) => g.startsWith(`${GROUP}.replay-`))).toEqual([]);
    } finally {
      await admin.disconnect();
    }
  });

  it('refuses to run without --dry-run, and a --to before --from', async () => {
    const stderr: string[] = [];
    const io = { stdout: { write: () => true }, stderr: { write: (t: string) => stderr.push(t) } };
    expect(await replayCommand(pipelineFile, { from: String(from) }, io)).toBe(2);
    expect(await replayCommand(pipelineFile, { from: String(to), to: String(from), dryRun: true }, io)).toBe(2);
    expect(stderr).toEqual([
      'sluice replay: only --dry-run is supported (replayed samples go to a dry-run sink, never to tenants)\n',
      'sluice replay: --to must be later than --from\n',
    ]);
  });
});
