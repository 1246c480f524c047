import { join } from 'node:path';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { startRedis, type RedisHandle } from '../stack/redis.ts';
import { sleep } from '../support/exactly-once/kafka.ts';
import { Scenario, scenarioDataset } from '../support/exactly-once/harness.ts';

/**
 * Issue 3, Redis outage: the pipeline's state backend (its own redis-server, AOF on) is stopped
 * for 20 s mid-run and started again with its data (same dir, same port). The instance must
 * survive it (consumption pauses, then resumes) and the results stay exact.
 */
const stack = inject('stack');
const OUTAGE_MS = 20_000;
let scenario: Scenario | undefined;
let redis: RedisHandle | undefined;

beforeAll(async () => {
  const base = join(stack.runDir, 'exactly-once', `redis-outage-${Date.now()}`);
  redis = await startRedis({ dir: join(base, 'data'), logFile: join(base, 'redis.log') });
  scenario = await Scenario.create({
    name: 'redis-outage',
    stack,
    dataset: scenarioDataset(3_005, 60_000, 150_000),
    rate: 1_500,
    redisUrl: redis.url,
  });
});

afterAll(async () => {
  scenario?.printFacts();
  await scenario?.close();
  await redis?.stop();
});

it('pauses while Redis is down and resumes exactly where it was', async () => {
  const s = scenario!;
  const production = s.produce();
  await production.waitFor(0.02);
  await s.startInstance('a');

  await production.waitFor(0.3);
  const sum = async () => [...(await s.requestTotals()).values()].reduce((a, b) => a + b, 0);
  const before = { output: await sum(), offsets: await s.committedSourceOffsets() };
  await redis!.stop();
  const stoppedAt = Date.now();
  await sleep(OUTAGE_MS / 2);
  s.assertNoCrash();
  const middle = { output: await sum(), offsets: await s.committedSourceOffsets() };
  await sleep(Math.max(0, OUTAGE_MS - (Date.now() - stoppedAt)));
  s.assertNoCrash();
  const end = { output: await sum(), offsets: await s.committedSourceOffsets() };
  await redis!.start();
  s.fact('outage_ms', Date.now() - stoppedAt);
  // Observations for the note, not assertions: what moved while the state backend was away.
  s.fact('output_requests_before_mid_end', `${before.output}/${middle.output}/${end.output}`);
  s.fact('source_committed_before_mid_end', [before, middle, end].map((x) => [...x.offsets.values()].reduce((a, b) => a + Math.max(0, b), 0)).join('/'));

  await s.productionDone();
  await s.waitFinished();
  const report = await s.verify();
  expect(report.ok, s.describe(report)).toBe(true);
}, 420_000);
