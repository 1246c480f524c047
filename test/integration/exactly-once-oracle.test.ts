import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { Scenario, scenarioDataset } from '../support/exactly-once/harness.ts';

/**
 * Issue 3, oracle test: ≥ 200k generated records (5 tenants, skewed series, out of order, ~1 %
 * late within allowed_lateness, ~0.5 % beyond it, idle partitions) through one instance of
 * test/fixtures/pipelines/exactly-once.yaml on the real broker, Redis and Prometheus. Every
 * counter, sum and bucket equals the offline oracle exactly at every window end, quantiles and
 * distinct counts lie within the sketches' stated errors, and the DLQ holds exactly the late records.
 */
const stack = inject('stack');
let scenario: Scenario | undefined;

beforeAll(async () => {
  scenario = await Scenario.create({ name: 'oracle', stack, dataset: scenarioDataset(3_001, 200_000, 240_000), rate: 5_000 });
});

afterAll(async () => {
  scenario?.printFacts();
  await scenario?.close();
});

it('delivers exactly the oracle\'s results to each tenant and exactly the late records to the DLQ', async () => {
  const s = scenario!;
  const production = s.produce();
  await production.waitFor(0.02); // a backlog first: no partition that has data looks idle at start
  await s.startInstance('a');
  await s.productionDone();
  await s.waitFinished();
  const report = await s.verify();
  expect(report.ok, s.describe(report)).toBe(true);
}, 420_000);
