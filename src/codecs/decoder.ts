import type { Rejection } from '../core/dead-letter-reason.ts';

/** A decoded record: a plain JSON-like object. Operators read it through compiled field getters. */
export type DecodedRecord = Record<string, unknown>;

/** Decoders return rejections rather than throwing: bad input is data, not an exception. */
export type DecodeResult = { readonly ok: true; readonly record: DecodedRecord } | ({ readonly ok: false } & Rejection);

export interface Decoder {
  decode(bytes: Buffer): DecodeResult;
}
