import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decideReload } from '../../../src/config/compat.ts';
import { parsePipeline } from '../../../src/config/load.ts';
import { configProblems, lineOf } from '../../support/config-problems.ts';

/** `repartition.skip_unreadable`: the operator's list of partials messages stage 2 may move past. */
const shipped = readFileSync(new URL('../../../pipelines/bailian-gateway.yaml', import.meta.url), 'utf8');

/** The shipped pipeline (4 partials partitions) with `entries` as its skip list. */
function withSkips(entries: string): string {
  expect(shipped).toContain('repartition:\n  partitions: 4\n');
  return shipped.replace('repartition:\n  partitions: 4\n', `repartition:\n  partitions: 4\n  skip_unreadable:\n${entries}`);
}

describe('repartition.skip_unreadable', () => {
  it('is empty by default and keeps the listed entries', () => {
    expect(parsePipeline(shipped, 'p.yaml', {}).config.repartition.skip_unreadable).toEqual([]);
    const text = withSkips('    - { partition: 3, offset: 81234 }\n    - { partition: 0, offset: 0 }\n');
    expect(parsePipeline(text, 'p.yaml', {}).config.repartition.skip_unreadable).toEqual([
      { partition: 3, offset: 81234 },
      { partition: 0, offset: 0 },
    ]);
  });

  it('refuses a partition the partials topic does not have, naming the path', () => {
    const text = withSkips('    - { partition: 0, offset: 5 }\n    - { partition: 4, offset: 7 }\n');
    expect(configProblems(text)).toEqual([
      `p.yaml:${lineOf(text, 'partition: 4')}:20: repartition.skip_unreadable[1].partition: partition 4 does not exist: the partials topic has 4 (0 to 3)`,
    ]);
  });

  it('refuses a negative or fractional offset and a negative partition', () => {
    const text = withSkips('    - { partition: 1, offset: -1 }\n    - { partition: -2, offset: 3 }\n    - { partition: 1, offset: 2.5 }\n');
    const found = configProblems(text);
    expect(found).toHaveLength(3);
    expect(found[0]).toMatch(/^p\.yaml:\d+:\d+: repartition\.skip_unreadable\[0\]\.offset: Too small: expected number to be >=0$/);
    expect(found[1]).toMatch(/^p\.yaml:\d+:\d+: repartition\.skip_unreadable\[1\]\.partition: Too small: expected number to be >=0$/);
    expect(found[2]).toMatch(/^p\.yaml:\d+:\d+: repartition\.skip_unreadable\[2\]\.offset: /);
  });

  it('refuses an entry listed twice, and unknown keys', () => {
    const text = withSkips('    - { partition: 2, offset: 9 }\n    - { partition: 2, offset: 10 }\n    - { partition: 2, offset: 9 }\n');
    expect(configProblems(text)).toEqual([
      `p.yaml:${lineOf(text, 'offset: 9 }') + 2}:7: repartition.skip_unreadable[2]: partition 2, offset 9 is listed twice (also skip_unreadable[0])`,
    ]);
    expect(configProblems(withSkips('    - { partition: 2, offset: 9, topic: x }\n'))).toEqual([expect.stringMatching(/repartition\.skip_unreadable\[0\]: Unrecognized key: "topic"$/)]);
  });

  it('applies on a reload by rebuilding the stages (stage 2 reads it when its partitions start)', () => {
    const running = parsePipeline(shipped, 'p.yaml', {}).config;
    const next = parsePipeline(withSkips('    - { partition: 2, offset: 9 }\n'), 'p.yaml', {}).config;
    expect(decideReload(running, next)).toEqual({
      live: [],
      rebuild: ['repartition.skip_unreadable: stage 2 reads the list when its partitions start; the rebuild starts them on it'],
      refused: [],
    });
  });
});
