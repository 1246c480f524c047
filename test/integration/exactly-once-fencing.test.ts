import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { sleep } from '../support/exactly-once/kafka.ts';
import { Scenario, scenarioDataset, SESSION_TIMEOUT } from '../support/exactly-once/harness.ts';

/**
 * Issue 3, fencing: two instances; one is frozen with SIGSTOP (mid-transaction: records flow
 * continuously and stage 1 flushes every 500 ms) until the group has expelled it after the
 * session timeout (SLUICE_KAFKA_SESSION_TIMEOUT, 6 s here) and the other instance has taken over
 * its partitions, re-initialising their transactional ids. Then it is resumed with SIGCONT: it
 * must not commit anything late (its transactional ids are fenced), must rejoin, and the results
 * stay exact.
 */
const stack = inject('stack');
const SETTLE_AFTER_TAKEOVER_MS = 3_000;
let scenario: Scenario | undefined;

beforeAll(async () => {
  scenario = await Scenario.create({ name: 'fencing', stack, dataset: scenarioDataset(3_004, 60_000, 150_000), rate: 1_500 });
});

afterAll(async () => {
  scenario?.printFacts();
  await scenario?.close();
});

it('fences a paused instance that lost its partitions, and stays exact', async () => {
  const s = scenario!;
  const production = s.produce();
  await production.waitFor(0.02);
  const [, zombie] = await Promise.all([s.startInstance('a'), s.startInstance('b')]);
  s.fact('join_2_ms', await s.waitGroupMembers(2));

  await production.waitFor(0.3);
  const pausedAt = Date.now();
  s.pause(zombie!);
  s.fact('session_timeout', SESSION_TIMEOUT);
  // The group must expel the frozen member: without a session timeout below the default 30 s
  // this waits in vain, and the test says so.
  try {
    s.fact('expelled_after_ms', await s.waitGroupMembers(1, 40_000));
  } catch (error) {
    throw new Error(`the paused instance was not expelled from the group (is SLUICE_KAFKA_SESSION_TIMEOUT=${SESSION_TIMEOUT} honoured?)\n${(error as Error).message}`);
  }
  await sleep(SETTLE_AFTER_TAKEOVER_MS); // the survivor runs (and commits) transactions on the taken-over partitions
  s.resume(zombie!);
  s.fact('paused_ms', Date.now() - pausedAt);
  s.fact('rejoined_after_ms', await s.waitGroupMembers(2));

  await s.productionDone();
  await s.waitFinished();
  // Evidence that the zombie really tried to commit late and was refused (a fact, not an assertion:
  // log wording is not a contract). Only the message text: the pipeline name contains "fencing".
  s.fact('zombie_fenced_log_lines', logMessages(zombie!.logFile).filter((m) => /fenced|old epoch/i.test(m)).length);
  const report = await s.verify();
  expect(report.ok, s.describe(report)).toBe(true);
}, 420_000);

function logMessages(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line) => {
      try {
        const entry = JSON.parse(line) as { msg?: unknown };
        return typeof entry.msg === 'string' ? [entry.msg] : [];
      } catch {
        return [];
      }
    });
}
