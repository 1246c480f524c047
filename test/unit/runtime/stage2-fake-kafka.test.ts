import { describe, expect, it } from 'vitest';
import { expectExact, mismatches, StageRig, T0, type RigInstance } from '../../support/stage-rig.ts';

/**
 * Stage 2 driven through the in-memory Kafka with a manual clock: restore after a crash (state,
 * offset and unacknowledged outbox), watermarks of idle source partitions, and the pause while
 * the state backend (Redis) is down. Runs are fed 150 steps of 100 ms (two windows fire) and
 * must emit exactly what an undisturbed run emits.
 */
const STEPS = 150;

async function pausedGauge(instance: RigInstance): Promise<string> {
  const text = await instance.metrics.registry.getSingleMetricAsString('sluice_paused_partitions');
  return text.split('\n').find((l) => l.startsWith('sluice_paused_partitions{')) ?? '';
}

// Manual time, but a loaded machine: no test here waits on the wall clock, the bound only catches a hang.
describe('stage 2 over the Kafka fake', { timeout: 60_000 }, () => {
  it('restores after a crash to the same output as an uninterrupted run, unacknowledged samples included', async () => {
    const rig = new StageRig();
    const crashed = await rig.start();
    await rig.feed(100);
    // The receiver stops acknowledging: the first window fires into the outbox and its checkpoint.
    rig.sink.hold = true;
    await rig.feed(20);
    expect(rig.store.saves).toBeGreaterThan(0);
    crashed.crash();
    expect(rig.sink.dropHeld(), 'samples lost with the crashed process').toBeGreaterThan(0);
    expect(rig.value('t1', 'rig_requests_total', { model: 'm1' }, T0 + 10_000)).toBeUndefined();
    rig.sink.hold = false;

    await rig.start();
    await rig.feed(STEPS - 120);
    await rig.finish();
    await expectExact(rig, STEPS);
  });

  it('fires windows while a source partition without records is idle, and by wall clock once every partition is', async () => {
    const rig = new StageRig();
    await rig.start();
    // Only partition 0 gets records; partition 1 announces itself idle after idle_timeout (3 s).
    for (let i = 0; i < 125; i++) {
      rig.produce(0, rig.clock.now());
      await rig.step();
    }
    // Partition 0's watermark (12.4 s − 1 s) passed the first window's end while it was active.
    expect(rig.value('t1', 'rig_requests_total', { model: 'm1' }, T0 + 10_000)).toBe(100);

    // Now partition 0 falls silent too: the second window waits for both to be idle, then fires
    // when the wall clock (minus max_out_of_orderness) passes its end.
    await rig.run(7_000);
    expect(rig.clock.now()).toBeLessThan(T0 + 21_000);
    expect(rig.value('t1', 'rig_requests_total', { model: 'm1' }, T0 + 20_000)).toBeUndefined();
    await rig.run(2_500);
    expect(rig.value('t1', 'rig_requests_total', { model: 'm1' }, T0 + 20_000)).toBe(125);
    expect(mismatches(rig)).toEqual([]);
    await rig.finish();
  });

  it('pauses its partitions while the state backend is down and resumes exactly where it stopped', async () => {
    const rig = new StageRig();
    const instance = await rig.start();
    await rig.feed(40);
    rig.store.down = true;
    await rig.feed(20);
    expect(rig.member(instance, 2).paused.size).toBe(2);
    expect(await pausedGauge(instance)).toMatch(/ 2$/);

    rig.store.down = false;
    await rig.feed(2);
    expect(rig.member(instance, 2).paused.size).toBe(0);
    await rig.feed(2); // the gauge follows at the next tick
    expect(await pausedGauge(instance)).toMatch(/ 0$/);
    await rig.feed(STEPS - 64);
    await rig.finish();
    await expectExact(rig, STEPS);
  });

  it('keeps a partition paused while its checkpoint cannot be loaded, then restores it', async () => {
    const rig = new StageRig();
    const crashed = await rig.start();
    await rig.feed(115);
    crashed.crash();
    rig.store.down = true;
    const successor = await rig.start();
    await rig.feed(10);
    expect(rig.member(successor, 2).paused.size).toBe(2);

    rig.store.down = false;
    await rig.feed(STEPS - 125);
    expect(rig.member(successor, 2).paused.size).toBe(0);
    await rig.finish();
    await expectExact(rig, STEPS);
  });
});
