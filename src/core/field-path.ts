/** Reads one (possibly nested, dot-separated) field of a decoded record. */
export type FieldGetter = (record: Record<string, unknown>) => unknown;

/**
 * Compiles a field path once at load time. The common single-segment path gets a direct
 * property read; nested paths walk their pre-split segments without allocating.
 */
export function compileFieldGetter(path: string): FieldGetter {
  const segments = path.split('.');
  if (segments.length === 1) {
    const key = segments[0]!;
    return (record) => record[key];
  }
  return (record) => {
    let current: unknown = record;
    for (let i = 0; i < segments.length; i++) {
      if (current === null || typeof current !== 'object') return undefined;
      current = (current as Record<string, unknown>)[segments[i]!];
    }
    return current;
  };
}
