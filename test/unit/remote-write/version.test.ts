import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SLUICE_VERSION, USER_AGENT } from '../../../src/sinks/remote-write/version.ts';

describe('SLUICE_VERSION', () => {
  it('matches package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(SLUICE_VERSION).toBe(pkg.version);
    expect(USER_AGENT).toBe(`sluice/${pkg.version}`);
  });
});
