import type { AnomalyConfigInput } from '../../../../src/operators/anomaly/index.ts';
import { seededRandom } from '../../../support/seeded-random.ts';

/** The configurations of the layout fixture: the default, and two with other table shapes. */
export const layoutFixtureConfigs: AnomalyConfigInput[] = [
  {},
  { season_slots: [24], novelty_order: 2, likelihood_window: 3, learn_points: 10, rest_points: 5 },
  { novelty_bins: 4, novelty_order: 4, season_slots: [7, 24, 168], threshold: 0.1 },
];

const random = seededRandom(11);
const noise = Float64Array.from({ length: 1500 }, () => random());

/** Point i of the fixture's series (value, time): a daily wave with noise, a level shift, spikes and a NaN. */
export function layoutFixturePoint(i: number): [number, number] {
  const value = i === 333 ? Number.NaN : 20 + 8 * Math.sin(i / 45) + 4 * noise[i]! + (i > 900 ? 12 : 0) + (i % 401 === 200 ? 90 : 0);
  return [value, 1_700_000_000_000 + i * 300_000];
}
