// vitest globalSetup: one local real stack (Kafka, Redis, a Prometheus per
// TEST_TENANTS tenant) per project that uses it, for the whole test run,
// described to tests via `inject('stack')`. If any service cannot start this
// throws: CI must fail rather than silently skip the integration tests.
// Each project gets its own stack (run dir suffixed with the project name): the
// projects' files may run at the same time and never share a service.

import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// brings 'vitest' into the program so the ProvidedContext augmentation below resolves
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startStack, stopStack, TEST_TENANTS, toStackInfo, type StackInfo } from '../stack/index.ts';
import { isProcessAlive } from '../stack/process.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackInfo;
  }
}

const RUN_DIR_PREFIX = 'sluice-test-stack-';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await reapStaleTestStacks();
  const lane = project.name === 'integration' ? '' : `-${project.name}`;
  const runDir = join(tmpdir(), `${RUN_DIR_PREFIX}${process.pid}${lane}`);
  const log = process.env.SLUICE_STACK_QUIET ? undefined : (line: string) => process.stderr.write(`[stack${lane}] ${line}\n`);
  const stack = await startStack({ runDir, tenants: [...TEST_TENANTS], redis: true, ...(log ? { log } : {}) });
  project.provide('stack', toStackInfo(stack));
  return async () => {
    // Data and logs stay in runDir for debugging; the next run removes them.
    const started = Date.now();
    await stack.stop();
    log?.(`stack: stopped in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  };
}

/**
 * Each run uses run dirs named after its pid (and the project). A run whose vitest process
 * died (SIGKILL, crash) never ran its teardown: stop whatever its
 * stack.json still records and delete its dir, so services never pile up.
 * Dirs of finished runs (owner gone, nothing left running) are deleted too.
 */
async function reapStaleTestStacks(): Promise<void> {
  let entries: string[];
  try {
    entries = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of entries) {
    if (!name.startsWith(RUN_DIR_PREFIX)) continue;
    const owner = Number(/^\d+/.exec(name.slice(RUN_DIR_PREFIX.length))?.[0]);
    if (!Number.isInteger(owner) || owner === process.pid || isProcessAlive(owner)) continue;
    const dir = join(tmpdir(), name);
    await stopStack(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}
