import type { Decoder, DecodeResult } from '../decoder.ts';

/** One JSON object per Kafka message. */
export class JsonDecoder implements Decoder {
  decode(bytes: Buffer): DecodeResult {
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      return { ok: false, reason: 'malformed', detail: `not JSON: ${(error as Error).message}` };
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return { ok: false, reason: 'malformed', detail: `expected a JSON object, got ${describe(value)}` };
    }
    return { ok: true, record: value as Record<string, unknown> };
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
