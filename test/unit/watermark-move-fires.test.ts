import { describe, expect, it } from 'vitest';
import { planWindowing, watermarkMoveFires } from '../../src/operators/windowed-metrics/plan.ts';

/** When an idle partition's watermark move is worth a marker: only when stage 2 could fire on it. */
describe('watermarkMoveFires', () => {
  const tumbling = planWindowing({ type: 'tumbling', size: 10_000, max_out_of_orderness: 0, allowed_lateness: 0, idle_timeout: 1_000 });
  const hopping = planWindowing({ type: 'hopping', size: 10_000, slide: 2_000, max_out_of_orderness: 0, allowed_lateness: 0, idle_timeout: 1_000 });
  const session = planWindowing({ type: 'session', gap: 10_000, max_out_of_orderness: 0, allowed_lateness: 0, idle_timeout: 1_000 });

  it('fires when the watermark reaches a window end plus the allowed lateness, not before', () => {
    expect(watermarkMoveFires(tumbling, 0, 10_001, 19_999)).toBe(false);
    expect(watermarkMoveFires(tumbling, 0, 10_001, 20_000)).toBe(true);
    expect(watermarkMoveFires(tumbling, 0, 20_000, 20_500)).toBe(false); // 20 s already fired on
    expect(watermarkMoveFires(tumbling, 3_000, 20_000, 22_999)).toBe(false);
    expect(watermarkMoveFires(tumbling, 3_000, 20_000, 23_000)).toBe(true);
    expect(watermarkMoveFires(tumbling, 0, 5_000, 45_000)).toBe(true);
  });

  it('takes window ends on the slide grid for hopping windows, and every move for sessions', () => {
    expect(watermarkMoveFires(hopping, 0, 10_001, 11_999)).toBe(false);
    expect(watermarkMoveFires(hopping, 0, 10_001, 12_000)).toBe(true);
    expect(watermarkMoveFires(session, 0, 10_001, 10_002)).toBe(true);
  });

  it('fires on the first watermark, never on a standstill or a step back, and handles times before 1970', () => {
    expect(watermarkMoveFires(tumbling, 0, Number.NEGATIVE_INFINITY, -5_000)).toBe(true);
    expect(watermarkMoveFires(tumbling, 0, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY)).toBe(false);
    expect(watermarkMoveFires(session, 0, 10_000, 10_000)).toBe(false);
    expect(watermarkMoveFires(tumbling, 0, 30_000, 10_000)).toBe(false);
    expect(watermarkMoveFires(tumbling, 0, -15_000, -10_000)).toBe(true);
    expect(watermarkMoveFires(tumbling, 0, -19_000, -11_000)).toBe(false);
  });
});
