import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { expect } from 'vitest';

/**
 * Compares decoded records with a committed golden file, as text, so any change to the output
 * (a value, a key, key order, a key that became undefined) fails. Non-finite numbers, which JSON
 * cannot hold, are written as {"$number":"NaN" | "+Inf" | "-Inf"}. To accept a deliberate change,
 * run the tests with UPDATE_GOLDEN=1 and review the diff of the golden files.
 */
export function expectGolden(records: unknown, file: URL): void {
  const actual = toGoldenText(records);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
    if (process.env.UPDATE_GOLDEN !== '1') throw new Error(`missing golden file ${file.pathname}; run with UPDATE_GOLDEN=1 to create it`);
    writeFileSync(file, actual);
    return;
  }
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

export function toGoldenText(records: unknown): string {
  return `${JSON.stringify(records, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? { $number: Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf' } : value), 2)}\n`;
}

export const fixture = (path: string): URL => new URL(`../../../fixtures/codecs/${path}`, import.meta.url);
export const readFixture = (path: string): Buffer => readFileSync(fixture(path));
