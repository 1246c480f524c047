import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { BESIDE_UNIT_FILES, BESIDE_UNIT_PROJECT } from './setup/lanes.ts';
import BesideUnitFirst from './setup/sequencer.ts';

/**
 * vitest runs projects of the same sequence.groupOrder together, on one pool of workers (they
 * must then agree on maxWorkers), and a project with fileParallelism: false after all of them. So
 * the unit files and the wait-bound integration files of lanes.ts share the first phase, and the
 * serial integration project follows. Three workers at least, also on 2 cores (the wait-bound
 * files mostly sleep): the three longest of them start at once; the other files, unit ones
 * included, each take the worker that frees first.
 */
const FIRST_PHASE_WORKERS = Math.max(3, availableParallelism() - 1);
const INTEGRATION = {
  // One real stack per project for the run; a service that cannot start fails the run.
  globalSetup: ['test/setup/global-stack.ts'],
  testTimeout: 180_000,
  hookTimeout: 240_000,
};

// Lives under test/ so the repository's top level stays as the design card lays it out.
export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    sequence: { sequencer: BesideUnitFirst },
    projects: [
      {
        extends: true,
        // A guard against hangs, not a speed check: a loaded 2-core machine runs some CPU-heavy cases for seconds.
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 60_000, maxWorkers: FIRST_PHASE_WORKERS },
      },
      {
        extends: true,
        test: { name: BESIDE_UNIT_PROJECT, include: [...BESIDE_UNIT_FILES], maxWorkers: FIRST_PHASE_WORKERS, ...INTEGRATION },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          exclude: [...BESIDE_UNIT_FILES],
          // One stack shared by every file: one file at a time.
          fileParallelism: false,
          ...INTEGRATION,
        },
      },
    ],
  },
});
