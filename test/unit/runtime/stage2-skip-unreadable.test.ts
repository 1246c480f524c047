import { describe, expect, it } from 'vitest';
import type { Counter } from 'prom-client';
import { expectExact, StageRig, type RigInstance } from '../../support/stage-rig.ts';

/**
 * `repartition.skip_unreadable` over the Kafka fake with a manual clock: a listed partials message
 * stage 2 cannot decode is moved past, also again after a crash before the next checkpoint (the
 * same output as a run that never saw it); an unlisted one still stops its partition.
 */
const STEPS = 150;
/** Version 9 of the partials wire: no release reads it. */
const UNREADABLE = Buffer.from([0x09, 0x00, 0x00]);

async function count(counter: Counter<'pipeline'>): Promise<number | undefined> {
  return (await counter.get()).values.find((v) => v.labels.pipeline === 'rig')?.value;
}

/** Delivers what is readable until stage 2 has met the message at the head of partials partition 0. */
async function pollUntilMet(instance: RigInstance, rig: StageRig): Promise<void> {
  for (let i = 0; i < 50; i++) {
    await rig.cluster.poll();
    const met = ((await count(instance.metrics.partialsSkipped)) ?? 0) + ((await count(instance.metrics.unreadablePartials)) ?? 0);
    if (met > 0) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error('stage 2 never read partials partition 0');
}

describe('stage 2 and repartition.skip_unreadable', { timeout: 60_000 }, () => {
  it('skips a listed unreadable message, and again after a crash before the next checkpoint, with the same output', async () => {
    const rig = new StageRig();
    // Partition 1's offset 0 is listed too: stage 1 writes a readable message there, which is processed.
    rig.loaded.config.repartition.skip_unreadable.push({ partition: 0, offset: 0 }, { partition: 1, offset: 0 });
    expect(rig.cluster.produce(rig.partials, 0, UNREADABLE, 'pb')).toBe(0);

    const crashed = await rig.start();
    expect(await count(crashed.metrics.partialsSkipped), 'present from the start').toBe(0);
    await pollUntilMet(crashed, rig);
    expect(await count(crashed.metrics.partialsSkipped)).toBe(1);
    expect(rig.store.saves, 'no checkpoint past the skipped message yet').toBe(0);
    crashed.crash();

    const instance = await rig.start();
    await rig.feed(STEPS);
    expect(await count(instance.metrics.partialsSkipped), 'skipped again, and only it').toBe(1);
    expect((await count(instance.metrics.unreadablePartials)) ?? 0, 'no sample: never counted').toBe(0);
    await rig.finish();
    await expectExact(rig, STEPS);
  });

  it('still waits on an unreadable message that is not listed', async () => {
    const rig = new StageRig();
    rig.loaded.config.repartition.skip_unreadable.push({ partition: 0, offset: 1 });
    rig.cluster.produce(rig.partials, 0, UNREADABLE, 'pb');
    const instance = await rig.start();
    await rig.feed(40);
    expect(await count(instance.metrics.partialsSkipped)).toBe(0);
    expect(await count(instance.metrics.unreadablePartials)).toBeGreaterThanOrEqual(1);
    expect([...rig.member(instance, 2).paused]).toEqual([`${rig.partials}/0`]);
    await instance.stop();
  });
});
