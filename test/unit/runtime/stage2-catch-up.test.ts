import { describe, expect, it } from 'vitest';
import { mismatches, referenceRun, StageRig, SOURCE_PARTITIONS, T0 } from '../../support/stage-rig.ts';

/**
 * A watermark jump that closes several windows fires them one at a time (partials-task.ts,
 * CATCH_UP): the next once the receiver has acknowledged the previous ones, or after the wait
 * bound when it does not. Here the bounds are tight (wait on every window, 1 s at most), the
 * records are a minute old, and the idle close (the wall-clock watermark) jumps over six windows.
 */
const WAIT_MS = 1_000;
/** Every tenant counts however long it waits: these tests pace on a receiver that holds everything. */
const EVERY_WINDOW = { aheadSamples: 0, resumeSamples: 0, waitMs: WAIT_MS, stalledAfterMs: Number.POSITIVE_INFINITY };

/** 50 records per source partition, event time a minute behind the clock, then silence. */
async function oldRecords(rig: StageRig): Promise<void> {
  for (let i = 0; i < 50; i++) {
    for (let p = 0; p < SOURCE_PARTITIONS; p++) rig.produce(p, rig.clock.now() - 60_000, { model: i % 2 === 0 ? 'm1' : 'm2', tenant: i % 3 === 0 ? 't2' : 't1' });
    await rig.step();
  }
}

/** Window ends the sink has a point of (the tenant's m1 requests, emitted at every window). */
function windowsDelivered(rig: StageRig, tenant = 't1'): number[] {
  const ends: number[] = [];
  for (let end = T0 - 60_000; end <= T0 + 60_000; end += 10_000) if (rig.value(tenant, 'rig_requests_total', { model: 'm1' }, end) !== undefined) ends.push(end);
  return ends;
}

/** Steps until the first window of the idle close is written (held by the receiver). */
async function untilFirstWindowHeld(rig: StageRig): Promise<void> {
  for (let i = 0; i < 100 && rig.sink.heldWrites === 0; i++) await rig.step();
  expect(rig.sink.heldWrites, 'the idle close fired a window').toBeGreaterThan(0);
}

describe('stage 2 catching up over several windows', { timeout: 60_000 }, () => {
  it('fires the next window once the previous ones are acknowledged, or after the wait bound', async () => {
    const rig = new StageRig();
    rig.stage2Options = { catchUp: EVERY_WINDOW };
    await rig.start();
    await oldRecords(rig);
    rig.sink.hold = true;
    await untilFirstWindowHeld(rig);
    const firstWindow = rig.sink.heldWrites;

    // Nothing acknowledged: the next window waits the bound, not longer.
    await rig.run(WAIT_MS - 300);
    expect(rig.sink.heldWrites).toBe(firstWindow);
    await rig.run(400);
    expect(rig.sink.heldWrites).toBeGreaterThan(firstWindow);

    // The receiver is back: every window follows, exactly.
    rig.sink.release();
    await rig.step();
    expect(windowsDelivered(rig).length).toBeGreaterThanOrEqual(6);
    await rig.finish();
    expect(mismatches(rig)).toEqual([]);
  });

  it('a crash in the middle of a catch-up: its checkpoint resumes it, with the output of an undisturbed run', async () => {
    const scenario = async (rig: StageRig) => {
      rig.stage2Options = { catchUp: EVERY_WINDOW };
      await oldRecords(rig);
    };
    const reference = await referenceRun(scenario);

    const rig = new StageRig();
    rig.stage2Options = { catchUp: EVERY_WINDOW };
    const crashed = await rig.start({ stage1: false });
    const upstream = await rig.start({ stage2: false });
    await oldRecords(rig);
    rig.sink.hold = true;
    await untilFirstWindowHeld(rig);
    // Stage 1 goes with the marker that started the catch-up as its last: nothing after it moves the watermark.
    upstream.crash();
    await rig.run(WAIT_MS + 200); // a second window fired, and a checkpoint holds the watermark between them
    expect(rig.store.saves).toBeGreaterThan(0);
    crashed.crash();
    rig.sink.dropHeld();
    rig.sink.hold = false;

    // Stage 2 alone first: no marker comes, the restored checkpoint alone finishes the catch-up.
    await rig.start({ stage1: false });
    await rig.run(3 * WAIT_MS);
    expect(windowsDelivered(rig)).toEqual([-50_000, -40_000, -30_000, -20_000, -10_000, 0].map((d) => T0 + d));
    await rig.start({ stage2: false });
    await rig.finish();
    expect(mismatches(rig)).toEqual([]);
    // This run idled longer (the restarts): its idle close went a window or so further.
    const endOf = ([key]: [string, number]) => Number(key.slice(key.lastIndexOf('@') + 1));
    const lastEnd = Math.max(...reference.map(endOf));
    expect(rig.sink.sorted().filter((point) => endOf(point) <= lastEnd)).toEqual(reference);
  });

  it("one tenant's receiver down: the other tenant's windows wait for it only until it counts as stalled, not one per wait", async () => {
    const STALLED_AFTER_MS = 2 * WAIT_MS;
    const rig = new StageRig();
    rig.stage2Options = { catchUp: { ...EVERY_WINDOW, stalledAfterMs: STALLED_AFTER_MS } };
    await rig.start();
    await oldRecords(rig);
    rig.sink.hold = (tenant) => tenant === 't2';
    await untilFirstWindowHeld(rig);
    expect(windowsDelivered(rig, 't1').length).toBeLessThanOrEqual(2);

    // Counted while it may still answer (two waits), then left out: every t1 window of the idle
    // close is there, where one per wait would have taken six waits.
    await rig.run(STALLED_AFTER_MS + 300);
    expect(windowsDelivered(rig, 't1').length).toBeGreaterThanOrEqual(6);
    expect(windowsDelivered(rig, 't2')).toEqual([]);

    // t2's receiver is back: its windows arrive, exactly.
    rig.sink.release();
    await rig.step();
    expect(windowsDelivered(rig, 't2').length).toBeGreaterThanOrEqual(6);
    await rig.finish();
    expect(mismatches(rig)).toEqual([]);
  });
});
