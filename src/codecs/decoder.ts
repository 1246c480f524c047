import type { DeadLetterReason } from '../core/dead-letter-reason.ts';

/** A decoded record: a plain JSON-like object. Operators read it through compiled field getters. */
export type DecodedRecord = Record<string, unknown>;

/** What a decoder may read besides the value bytes: the Kafka message key and headers (kafkajs shapes). */
export interface DecodeContext {
  readonly key: Buffer | null;
  readonly headers: { readonly [name: string]: Buffer | string | (Buffer | string)[] | undefined };
}

/**
 * One Kafka message decodes to zero or more records, or to one rejection for the whole message:
 * a message is the unit the dead-letter topic keeps, so a bad part sends all of its bytes there intact.
 */
export type DecodeOutcome =
  | { readonly ok: true; readonly records: readonly DecodedRecord[] }
  | { readonly ok: false; readonly reason: DeadLetterReason; readonly detail: string };

/**
 * Decoders return rejections rather than throwing: bad input is data, not an exception. An
 * outcome is read before the next `decode` of the same decoder, which may reuse it.
 */
export interface Decoder {
  decode(bytes: Buffer, context: DecodeContext): DecodeOutcome;
}

/** What every codec factory needs besides its config. */
export interface DecoderOptions {
  /** Directory that relative paths in the config (schema files) resolve against: the pipeline file's. */
  readonly baseDir: string;
  /**
   * The pipeline's `source.max_message_bytes` (default 1 MiB, the source's default). A codec
   * whose output can outgrow its input (prometheus_text applies the message key's grouping
   * labels to every sample) bounds that growth by it.
   */
  readonly maxMessageBytes?: number;
  /**
   * The top-level fields the pipeline can read (`fieldsThePipelineReads`); a decoder may leave
   * the others out of its records. Undefined: every field is kept.
   */
  readonly readFields?: readonly string[];
}

/** For callers with no Kafka context at hand (tests, tools). */
export const EMPTY_CONTEXT: DecodeContext = Object.freeze({ key: null, headers: Object.freeze({}) });

/**
 * A codec config that cannot be built (a schema file that is missing, invalid or incompatible).
 * `path` is relative to the `decode:` section, so the config loader can point at `file:line:col`.
 */
export class CodecConfigError extends Error {
  constructor(
    readonly path: readonly (string | number)[],
    message: string,
  ) {
    super(message);
    this.name = 'CodecConfigError';
  }
}

export function accept(records: readonly DecodedRecord[]): DecodeOutcome {
  return { ok: true, records };
}

/** Undecodable in the configured codec. The detail says what and where, never the content. */
export function malformed(detail: string): DecodeOutcome {
  return { ok: false, reason: 'malformed', detail };
}

/** Decoded, but breaks the record contract. */
export function schemaViolation(detail: string): DecodeOutcome {
  return { ok: false, reason: 'schema', detail };
}
