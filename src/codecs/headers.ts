import { isUtf8 } from 'node:buffer';
import type { DecodeContext } from './decoder.ts';

/** A header's text, `undefined` when absent, or a problem that rejects the message. */
export type HeaderText = { readonly ok: true; readonly value: string | undefined } | { readonly ok: false; readonly detail: string };

const ABSENT: HeaderText = Object.freeze({ ok: true, value: undefined });

/**
 * Reads one Kafka header as UTF-8 text. A header given more than once is ambiguous and is
 * reported rather than resolved by picking one; bytes that are not UTF-8 are reported, not replaced.
 */
export function readTextHeader(context: DecodeContext, name: string): HeaderText {
  let raw = context.headers[name];
  if (raw === undefined) return ABSENT;
  if (Array.isArray(raw)) {
    if (raw.length !== 1) return raw.length === 0 ? ABSENT : { ok: false, detail: `header "${name}" is given ${raw.length} times` };
    raw = raw[0]!;
  }
  if (typeof raw === 'string') return { ok: true, value: raw };
  if (!isUtf8(raw)) return { ok: false, detail: `header "${name}" is not UTF-8` };
  return { ok: true, value: raw.toString('utf8') };
}
