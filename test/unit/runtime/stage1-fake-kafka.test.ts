import { describe, expect, it } from 'vitest';
import { MARKER_KEY, PARTIALS_KEY } from '../../../src/runtime/repartition-codec.ts';
import { expectExact, mismatches, SOURCE_PARTITIONS, StageRig, WINDOW_MS, type RigInstance } from '../../support/stage-rig.ts';

/**
 * Stage 1's transactions driven through the in-memory Kafka with a manual clock: fencing in the
 * middle of a transaction, a rebalance while a flush is in flight, a failed transaction replaced
 * by a successor, a broker outage. Every run must emit exactly what an undisturbed run emits,
 * and exactly the running totals of its input.
 */

/** Feeds until a stage-1 task's flush stops inside its held transaction (bounded). */
async function feedUntilHeld(rig: StageRig, held: { reached: Promise<void> }): Promise<void> {
  let reached = false;
  void held.reached.then(() => (reached = true));
  for (let i = 0; i < 50 && !reached; i++) await rig.feed(1);
  expect(reached, 'a stage-1 flush reached the held commit').toBe(true);
}

const FEED_BEFORE = 40;
const FEED_AFTER = 110;

function restarts(instance: RigInstance, client: string): Promise<string> {
  return instance.metrics.registry.getSingleMetricAsString('sluice_kafka_client_restarts_total').then((text) => text.split('\n').find((l) => l.includes(`client="${client}"`)) ?? '');
}

// Manual time, but a loaded machine: no test here waits on the wall clock, the bound only catches a hang.
describe('stage 1 over the Kafka fake', { timeout: 60_000 }, () => {
  it('fences an owner that lost its partitions mid-transaction: its late commit fails and nothing is counted twice', async () => {
    const rig = new StageRig();
    const zombie = await rig.start();
    await rig.feed(FEED_BEFORE / 2);
    const held = rig.cluster.holdNextCommit();
    await feedUntilHeld(rig, held);
    const fedWhileHeld = rig.inputs.length / 2;

    // The group stops hearing from the zombie's stage 1 (frozen past its session timeout) and a
    // new instance takes every source partition over, fencing the zombie's transactional ids.
    const fencedBefore = rig.cluster.coordinator.fencedCommits;
    rig.cluster.group('rig').remove(rig.member(zombie, 1));
    const survivor = await rig.start({ stage2: false });
    expect(rig.member(survivor, 1).assignment).toHaveLength(2);
    held.release();
    await rig.feed(5);
    // The zombie's open transaction was aborted and its commit refused.
    expect(rig.cluster.coordinator.fencedCommits).toBeGreaterThan(fencedBefore);

    // The zombie re-joined after being fenced and got its share back.
    expect(rig.cluster.group('rig').members).toHaveLength(2);
    await rig.feed(FEED_BEFORE + FEED_AFTER - fedWhileHeld - 5);
    await rig.finish();
    await expectExact(rig, FEED_BEFORE + FEED_AFTER);
  });

  it('writes each flush\'s partials as one message per stage-2 partition, before that partition\'s watermark marker', async () => {
    const rig = new StageRig();
    await rig.start();
    await rig.feed(60);
    await rig.finish();
    await expectExact(rig, 60);
    let batches = 0;
    for (const { messages } of rig.cluster.commits) {
      const partials = messages.filter((m) => m.topic === rig.partials);
      for (const partition of [0, 1]) {
        const keys = partials.filter((m) => m.partition === partition).map((m) => String(m.key));
        // A flush's partials for one partition (far under the batch's byte cap), then its marker.
        expect(keys.filter((k) => k === PARTIALS_KEY).length).toBeLessThanOrEqual(1);
        expect(keys.every((k) => k === PARTIALS_KEY || k === MARKER_KEY)).toBe(true);
        if (keys.includes(PARTIALS_KEY)) {
          batches++;
          expect(keys.indexOf(PARTIALS_KEY)).toBeLessThan(keys.lastIndexOf(MARKER_KEY));
        }
      }
    }
    expect(batches).toBeGreaterThan(5);
  });

  it('survives a rebalance while a flush is in flight', async () => {
    const rig = new StageRig();
    const first = await rig.start();
    await rig.feed(FEED_BEFORE / 2);
    const held = rig.cluster.holdNextCommit();
    await feedUntilHeld(rig, held);
    const fed = rig.inputs.length / 2;

    // A second instance joins while the first one's transaction is open: the first must close
    // the task whose flush is in flight, and the partition's new owner fences that producer.
    const second = await rig.start({ stage2: false });
    // The held commit ends as the broker decides: fenced by the new owner, or committed.
    held.release();
    await rig.feed(FEED_BEFORE + FEED_AFTER - fed);
    expect(rig.member(first, 1).assignment).toHaveLength(1);
    expect(rig.member(second, 1).assignment).toHaveLength(1);
    await rig.finish();
    await expectExact(rig, FEED_BEFORE + FEED_AFTER);
  });

  it.each([
    { case: 'aborted by the broker', afterCommit: false },
    { case: 'committed although the client saw an error', afterCommit: true },
  ])('replaces a task whose transaction failed ($case) by a successor that re-reads from the last commit', async ({ afterCommit }) => {
    const rig = new StageRig();
    const instance = await rig.start();
    await rig.feed(FEED_BEFORE);
    const committed = rig.cluster.committedOffsets('rig', ['in']);
    rig.cluster.failNextCommit(new Error('fake broker: NOT_COORDINATOR'), { afterCommit });
    await rig.feed(FEED_AFTER);
    await rig.finish();

    expect(await restarts(instance, 'stage1-producer')).toMatch(/ 1$/);
    // The failed task pointed the consumer back at the last commit it knew of.
    const seeks = rig.member(instance, 1).seeks;
    expect(committed.some((c) => seeks.some((s) => s.partition === c.partition && s.offset === c.offset))).toBe(true);
    await expectExact(rig, FEED_BEFORE + FEED_AFTER);
  });

  it('keeps retrying through a broker outage and resumes exactly where it committed', async () => {
    const rig = new StageRig();
    const instance = await rig.start();
    // One step short of a flush: the broker goes away with records read and not yet committed.
    await rig.feed(FEED_BEFORE - 1);
    rig.cluster.up = false;
    // Records keep arriving at the (unreachable) broker meanwhile; nothing is fetched.
    await rig.feed(31);
    expect(rig.cluster.commits.length).toBeGreaterThan(0);
    const commitsBeforeRecovery = rig.cluster.commits.length;
    rig.cluster.up = true;
    await rig.feed(FEED_AFTER - 30);
    expect(rig.cluster.commits.length).toBeGreaterThan(commitsBeforeRecovery);
    expect(await restarts(instance, 'stage1-producer')).not.toBe('');
    await rig.finish();
    await expectExact(rig, FEED_BEFORE + FEED_AFTER);
  });

  it('does not count a broker outage as quiet time: a partition whose producer resumes late is not idle', async () => {
    const rig = new StageRig();
    await rig.start();
    await rig.feed(20);
    rig.cluster.up = false;
    await rig.run(10_000); // well past idle_timeout (3 s), with nothing readable
    rig.cluster.up = true;
    await rig.run(1_000); // the stage reads the ends and commits again; the producers have not resumed yet
    // Records written during the outage arrive now, 5 s old: late only for a partition announced idle.
    for (let p = 0; p < SOURCE_PARTITIONS; p++) rig.produce(p, rig.clock.now() - 5_000);
    await rig.run(1_000);
    expect(rig.cluster.log('rig.dlq', 0).high, 'dead letters (late records)').toBe(0);
    await rig.finish();
  });

  it('tells stage 2 of an idle partition\'s watermark once per window it can fire, and the windows close as soon as before', async () => {
    const rig = new StageRig();
    await rig.start();
    await rig.feed(20);
    await rig.run(4_000); // past idle_timeout (3 s): both partitions announced idle
    const idleFrom = rig.cluster.commits.length;
    const startedAt = rig.clock.now();
    // Window ends the idle watermark (the clock minus max_out_of_orderness, 1 s) passes from here on.
    const ends: number[] = [];
    for (let end = Math.ceil((startedAt - 1_000) / WINDOW_MS) * WINDOW_MS; end + 1_000 < startedAt + 40_000; end += WINDOW_MS) ends.push(end);
    const closedAt = new Map<number, number>();
    for (let t = 0; t < 40_000; t += 100) {
      await rig.step(100);
      for (const end of ends) {
        if (!closedAt.has(end) && rig.value('t1', 'rig_requests_total', { model: 'm1' }, end) !== undefined) closedAt.set(end, rig.clock.now());
      }
    }
    // Every window closes within a flush interval (200 ms) and a stage-2 poll of the idle
    // watermark reaching its end, as when each flush announced it.
    expect(ends.length).toBeGreaterThanOrEqual(3);
    for (const end of ends) {
      expect(closedAt.get(end), `window ending ${end - startedAt} ms after idle`).toBeDefined();
      expect(closedAt.get(end)! - (end + 1_000), `window ending ${end - startedAt} ms after idle`).toBeLessThanOrEqual(500);
    }
    // Stage 1's transactions while idle: markers only, one per partition and window end passed
    // (a flush every 200 ms would have made 200 per partition).
    const stage1 = rig.cluster.commits.slice(idleFrom).filter((commit) => commit.offsets.groupId === 'rig');
    expect(stage1.every((commit) => commit.messages.every((m) => String(m.key) === MARKER_KEY))).toBe(true);
    expect(stage1.length).toBeGreaterThanOrEqual(ends.length * SOURCE_PARTITIONS);
    expect(stage1.length).toBeLessThanOrEqual((ends.length + 1) * SOURCE_PARTITIONS);
    await rig.finish();
    expect(mismatches(rig)).toEqual([]);
  });
});
