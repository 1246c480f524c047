import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];

// Registered while the importing test file is collected, so it runs after that file's last test.
// (A process 'exit' handler does not do: vitest ends its workers without one.)
afterAll(removeAll);

/**
 * A fresh directory under the OS temp dir, removed after the importing test file's tests, so a
 * run leaves nothing behind in /tmp. Works anywhere (describe bodies, helpers, tests), unlike
 * `onTestFinished`.
 */
export function scratchDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `sluice-${name}-`));
  made.push(dir);
  return dir;
}

function removeAll(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
