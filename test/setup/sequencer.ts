import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { BESIDE_UNIT_FILES, BESIDE_UNIT_PROJECT } from './lanes.ts';

/**
 * vitest's order (groups, projects, then slowest or largest file first), except that the files
 * that run beside the unit tests start in the order BESIDE_UNIT_FILES lists them, longest first,
 * also on a machine without vitest's timing cache: started last, the longest would run alone.
 */
export default class BesideUnitFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification): number =>
      spec.project.name === BESIDE_UNIT_PROJECT ? BESIDE_UNIT_FILES.findIndex((file) => spec.moduleId.endsWith(file)) : -1;
    const beside = sorted.filter((spec) => rank(spec) >= 0).sort((a, b) => rank(a) - rank(b));
    return [...beside, ...sorted.filter((spec) => rank(spec) < 0)];
  }
}
