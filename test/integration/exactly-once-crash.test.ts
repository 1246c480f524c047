import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { sleep } from '../support/exactly-once/kafka.ts';
import { Scenario, scenarioDataset } from '../support/exactly-once/harness.ts';
import { seededRandom } from '../support/seeded-random.ts';

/**
 * Issue 3, crash test: the oracle dataset's shape (smaller) while the pipeline process is
 * SIGKILLed at random moments at least 5 times, and restarted each time (a kill may land while
 * the restarted process is still joining the group or restoring its state). The final
 * Prometheus values and the DLQ equal the oracle's exactly.
 */
const stack = inject('stack');
/** Mid-stream kills; kills of a restart during its startup come on top. */
const MIN_KILLS = 5;
const MAX_KILLS = 7;
let scenario: Scenario | undefined;

beforeAll(async () => {
  scenario = await Scenario.create({ name: 'crash', stack, dataset: scenarioDataset(3_002, 80_000, 180_000), rate: 1_400 });
});

afterAll(async () => {
  scenario?.printFacts();
  await scenario?.close();
});

it('loses and duplicates nothing across repeated SIGKILLs and restarts', async () => {
  const s = scenario!;
  const random = seededRandom(s.options.dataset.options.seed ^ 0x6b696c6c);
  const production = s.produce();
  await production.waitFor(0.02);
  let instance = await s.startInstance('a');
  const killedAt: string[] = [];
  let startupKills = 0;
  const at = () => (production.produced / s.options.dataset.sequence.length).toFixed(2);
  while (killedAt.length < MIN_KILLS || (!production.finished && killedAt.length < MAX_KILLS)) {
    await sleep(3_000 + random() * 7_000); // a random moment mid-stream
    s.assertNoCrash();
    await s.kill(instance, 'SIGKILL');
    killedAt.push(at());
    await sleep(100 + random() * 900);
    if (random() < 0.25) {
      // now and then the restart itself dies while it joins the group and restores its state
      const early = await s.startInstance('a', { waitReady: false });
      await sleep(300 + random() * 1_500);
      s.assertNoCrash();
      await s.kill(early, 'SIGKILL');
      startupKills++;
      await sleep(100 + random() * 400);
    }
    instance = await s.startInstance('a');
  }
  s.fact('kills', killedAt.length + startupKills);
  s.fact('kills_mid_stream', killedAt.length);
  s.fact('kills_during_startup', startupKills);
  s.fact('killed_at_produced_fraction', killedAt.join(','));
  await s.productionDone();
  await s.waitFinished();
  const report = await s.verify();
  expect(report.ok, s.describe(report)).toBe(true);
  expect(killedAt.length).toBeGreaterThanOrEqual(MIN_KILLS);
}, 480_000);
