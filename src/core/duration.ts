import { z } from 'zod';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** Parses a duration such as `250ms`, `30s`, `5m`, `1h` into milliseconds; undefined if malformed. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * UNIT_MS[match[2]!]!);
}

/** Formats milliseconds back into the shortest exact duration string (`90000` → `90s`). */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = UNIT_MS[unit]!;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** A zod schema for durations written as strings (`30s`), parsed to milliseconds. */
export function durationSchema() {
  return z
    .string()
    .regex(DURATION, 'expected a duration such as "500ms", "30s", "5m" or "1h"')
    .transform((text) => parseDuration(text)!);
}

/** A duration that must be greater than zero; `what` names the field in the message. */
export function positiveDurationSchema(what: string) {
  return durationSchema().refine((ms) => ms > 0, `${what} must be greater than zero`);
}
