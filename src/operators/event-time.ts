import { compileFieldGetter } from '../core/field-path.ts';

export type EventTimeFormat = 'unix_ms' | 'unix_s' | 'rfc3339';

/** Extracts a record's event time in epoch milliseconds; undefined when missing or invalid. */
export type EventTimeExtractor = (record: Record<string, unknown>) => number | undefined;

export function compileEventTime(field: string, format: EventTimeFormat): EventTimeExtractor {
  const get = compileFieldGetter(field);
  switch (format) {
    case 'unix_ms':
      return (record) => validTime(get(record));
    case 'unix_s':
      return (record) => {
        const seconds = get(record);
        return typeof seconds === 'number' ? validTime(Math.round(seconds * 1000)) : undefined;
      };
    case 'rfc3339':
      return (record) => {
        const text = get(record);
        return typeof text === 'string' && RFC3339.test(text) ? validTime(Date.parse(text)) : undefined;
      };
  }
}

// Date.parse alone accepts many loose forms; the event time must be an unambiguous instant.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Event times are whole milliseconds after the epoch and before year 10000. */
function validTime(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value < 253_402_300_800_000
    ? value
    : undefined;
}
