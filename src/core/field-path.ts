import { z } from 'zod';
/** Reads one (possibly nested) field of a decoded record. */
export type FieldGetter = (record: Record<string, unknown>) => unknown;

/**
 * Field paths: dot-separated names (`usage.input_tokens`, `labels.gpu`), with bracketed, quoted
 * segments for keys that contain dots themselves, as OpenTelemetry attribute names do:
 * `attributes["gen_ai.request.model"]`, `resource["tenant.id"]`.
 */
export const FIELD_PATH = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*|\["[^"\\]+"\])*$/;

const SEGMENT = /\.?([A-Za-z_][A-Za-z0-9_]*)|\["([^"\\]+)"\]/g;

/** Splits a valid field path into its keys: `a.b["c.d"]` → `['a', 'b', 'c.d']`. */
export function fieldPathSegments(path: string): string[] {
  if (!FIELD_PATH.test(path)) throw new Error(`invalid field path: ${path}`);
  const segments: string[] = [];
  for (const match of path.matchAll(SEGMENT)) segments.push(match[1] ?? match[2]!);
  return segments;
}

/**
 * Compiles a field path once at load time. The common single-segment path gets a direct
 * property read; nested paths walk their pre-split segments without allocating. Only own
 * properties are read, so a path can never reach `__proto__` or `constructor`.
 *
 * Decoded records are plain objects (JSON.parse, object spreads, `Object.create(null)`): their
 * prototype is Object.prototype or null. So a top-level key that Object.prototype does not have
 * can only be the record's own, and is read without the `Object.hasOwn` call (≈ 30 field reads
 * per gateway record). Keys Object.prototype has (`constructor`, `toString`, …) keep the check.
 */
export function compileFieldGetter(path: string): FieldGetter {
  const segments = fieldPathSegments(path);
  if (segments.length === 1) return ownFieldReader(segments[0]!);
  return (record) => {
    let current: unknown = record;
    for (let i = 0; i < segments.length; i++) {
      if (current === null || typeof current !== 'object') return undefined;
      const key = segments[i]!;
      if (!Object.hasOwn(current, key)) return undefined;
      current = (current as Record<string, unknown>)[key];
    }
    return current;
  };
}

/** Reads one own property of a record (see compileFieldGetter: direct where Object.prototype cannot answer instead). */
export function ownFieldReader(key: string): FieldGetter {
  if (!(key in Object.prototype)) return (record) => record[key];
  return (record) => (Object.hasOwn(record, key) ? record[key] : undefined);
}

/** The config schema of a field path (`usage.input_tokens`, `attributes["gen_ai.request.model"]`). */
export const fieldPathSchema = z
  .string()
  .regex(FIELD_PATH, 'expected a field path such as "latency_ms", "usage.input_tokens" or \'attributes["gen_ai.request.model"]\'')
  .describe('A field of the decoded record; nested fields are joined with dots.');
