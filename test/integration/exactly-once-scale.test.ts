import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { sleep } from '../support/exactly-once/kafka.ts';
import { Scenario, scenarioDataset } from '../support/exactly-once/harness.ts';

/**
 * Issue 3, scale test: three instances in one consumer group; mid-run one is SIGKILLed and later
 * a fourth is added. Partitions (source and repartition) move twice; results stay exact.
 */
const stack = inject('stack');
let scenario: Scenario | undefined;

beforeAll(async () => {
  scenario = await Scenario.create({ name: 'scale', stack, dataset: scenarioDataset(3_003, 60_000, 150_000), rate: 1_500 });
});

afterAll(async () => {
  scenario?.printFacts();
  await scenario?.close();
});

it('stays exact when an instance dies and another joins mid-run', async () => {
  const s = scenario!;
  const production = s.produce();
  await production.waitFor(0.02);
  const [, b] = await Promise.all([s.startInstance('a'), s.startInstance('b'), s.startInstance('c')]);
  s.fact('join_3_ms', await s.waitGroupMembers(3));

  await production.waitFor(0.3);
  await s.kill(b!, 'SIGKILL');
  s.fact('killed_b_at', production.produced);
  // The group settles on the two survivors after the session timeout; d joins at 60 % of the
  // data whether or not that happened yet (production never waits for the group).
  const killedAt = Date.now();
  const addAt = Math.ceil(0.6 * s.options.dataset.sequence.length);
  let settled: number | string = 'not before d joined';
  while (production.produced < addAt && !production.finished) {
    s.assertNoCrash();
    const g = await s.group();
    if (g.state === 'Stable' && g.members === 2) {
      settled = Date.now() - killedAt;
      break;
    }
    await sleep(250);
  }
  s.fact('rebalance_after_kill_ms', settled);
  await production.waitFor(0.6);
  const d = await s.startInstance('d', { waitReady: false });
  s.fact('added_d_at', production.produced);
  await s.waitReady(d);
  s.fact('rebalance_after_add_ms', await s.waitGroupMembers(3));

  await s.productionDone();
  await s.waitFinished();
  const report = await s.verify();
  expect(report.ok, s.describe(report)).toBe(true);
}, 420_000);
