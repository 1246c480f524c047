import type { Logger } from 'pino';
import { DEAD_LETTER_REASONS, type DeadLetterReason, type Rejection } from '../core/dead-letter-reason.ts';
import type { OutgoingMessage, SourceRecord } from '../sources/kafka/client.ts';
import { RECORD_BATCH_OVERHEAD, recordBytes } from '../sources/kafka/record-size.ts';
import { TAPPED } from '../telemetry/tap/hub.ts';
import { tapDeadLetter } from '../telemetry/tap/offer.ts';

/**
 * Dead letters (DESIGN §4): ONE per source message, whatever number of its records failed, so a
 * push of 960 unusable samples is written once, not 960 times. It keeps the original key and
 * bytes; its headers say why (counts per reason, the first few distinct details, capped) and
 * where the message came from.
 */
export const DEAD_LETTER_HEADERS = {
  /** The reason with the most records (ties: the first in DEAD_LETTER_REASONS' order). */
  reason: 'sluice.reason',
  /** Every reason with its record count, most first: `unroutable=51,late=2`. */
  reasons: 'sluice.reasons',
  /** The first distinct details, ` | `-separated, each at most 256 bytes, all at most 1 KiB. */
  detail: 'sluice.detail',
  pipeline: 'sluice.pipeline',
  topic: 'sluice.source.topic',
  partition: 'sluice.source.partition',
  offset: 'sluice.source.offset',
  /** `too_large` when the original bytes are left out: they do not fit the dead-letter topic. */
  valueDropped: 'sluice.value_dropped',
  /** `too_large` when, beyond that, the original key does not fit either. */
  keyDropped: 'sluice.key_dropped',
  /** The original value's size in bytes, given when the value is left out. */
  valueBytes: 'sluice.value_bytes',
} as const;

export const DETAIL_MAX_BYTES = 256;
export const DETAILS_MAX_BYTES = 1024;
/** Distinct details kept per message: enough to see what went wrong, bounded for a message of a million bad records. */
const DETAILS_KEPT = 4;
const DETAIL_SEPARATOR = ' | ';
const MORE_DETAILS = '…';

/** Room on the dead-letter topic for a message's key, the headers and the batch framing. */
export const DEAD_LETTER_HEADROOM_BYTES = 64 * 1024;
/** Kafka's default `message.max.bytes` (1 MiB + 12): a limit the dead-letter topic never goes below. */
export const KAFKA_DEFAULT_MESSAGE_BYTES = 1_048_588;

/**
 * The `max.message.bytes` the dead-letter topic needs: the pipeline's largest message plus
 * headroom, and never below Kafka's default (transactions send in chunks of about that size).
 */
export function deadLetterTopicMaxBytes(maxMessageBytes: number): number {
  return Math.max(maxMessageBytes, KAFKA_DEFAULT_MESSAGE_BYTES) + DEAD_LETTER_HEADROOM_BYTES;
}

/** What a committed set of dead letters adds to the metrics. */
export interface DeadLetterTally {
  /** Rejected records per reason (the records of a message, or the message itself when it failed as a whole). */
  readonly records: ReadonlyMap<DeadLetterReason, number>;
  /** Dead-letter messages per `sluice.reason`. */
  readonly messages: ReadonlyMap<DeadLetterReason, number>;
  /** Dead letters written without their original bytes. */
  readonly unwritable: number;
}

/** The dead letters drained for one transaction, kept until it commits or aborts. */
export interface DeadLetterBatch {
  readonly messages: readonly (OutgoingMessage & { readonly topic: string })[];
  readonly tally: DeadLetterTally;
  readonly letters: readonly Letter[];
}

interface Letter {
  readonly message: OutgoingMessage & { readonly topic: string };
  readonly offset: number;
  readonly counts: ReadonlyMap<DeadLetterReason, number>;
  readonly reason: DeadLetterReason;
  readonly bytes: number;
  /** Written without its original value or key: it would not fit. */
  readonly stripped: boolean;
}

export interface DeadLetterOptions {
  readonly pipeline: string;
  readonly topic: string;
  /** The dead-letter topic's `max.message.bytes` (see deadLetterTopicMaxBytes). */
  readonly topicMaxBytes: number;
  readonly log: Logger;
}

/**
 * One source partition's dead letters since its last commit. A letter that would not fit the
 * dead-letter topic is written without the original bytes (`sluice.value_dropped=too_large`),
 * never left out. If a transaction still fails as too large (the topic's limit was lowered
 * under a running pipeline, say), the failing letters are remembered by source offset and the
 * replay writes them without their bytes: one message is isolated and counted, the partition
 * moves on.
 */
export class DeadLetters {
  private pending: Letter[] = [];
  /** Source offsets whose original bytes could not be written: written without them from now on. */
  private readonly tooLarge = new Set<number>();
  private readonly fitBytes: number;

  constructor(private readonly options: DeadLetterOptions) {
    this.fitBytes = options.topicMaxBytes - RECORD_BATCH_OVERHEAD;
  }

  get size(): number {
    return this.pending.length;
  }

  /** The one dead letter of a source message, for all its rejections (at least one). */
  add(record: SourceRecord, rejections: readonly Rejection[]): void {
    const counts = new Map<DeadLetterReason, number>();
    const details = new DistinctDetails();
    for (const rejection of rejections) {
      counts.set(rejection.reason, (counts.get(rejection.reason) ?? 0) + 1);
      details.add(rejection.detail);
    }
    const ranked = [...counts].sort((a, b) => b[1] - a[1] || DEAD_LETTER_REASONS.indexOf(a[0]) - DEAD_LETTER_REASONS.indexOf(b[0]));
    const reason = ranked[0]![0];
    const headers: Record<string, string> = {
      [DEAD_LETTER_HEADERS.reason]: reason,
      [DEAD_LETTER_HEADERS.reasons]: ranked.map(([r, n]) => `${r}=${n}`).join(','),
      [DEAD_LETTER_HEADERS.detail]: details.header(),
      [DEAD_LETTER_HEADERS.pipeline]: this.options.pipeline,
      [DEAD_LETTER_HEADERS.topic]: record.topic,
      [DEAD_LETTER_HEADERS.partition]: String(record.partition),
      [DEAD_LETTER_HEADERS.offset]: String(record.offset),
    };
    const letter = this.fit({ topic: this.options.topic, key: record.key, value: record.value, headers }, this.tooLarge.has(record.offset));
    this.pending.push({ ...letter, offset: record.offset, counts, reason });
    if (TAPPED['dead-letters']) tapDeadLetter(this.options.pipeline, headers);
  }

  /** Everything since the last drain, for the next transaction. */
  drain(): DeadLetterBatch {
    const letters = this.pending;
    this.pending = [];
    const records = new Map<DeadLetterReason, number>();
    const messages = new Map<DeadLetterReason, number>();
    let unwritable = 0;
    for (const letter of letters) {
      for (const [reason, n] of letter.counts) records.set(reason, (records.get(reason) ?? 0) + n);
      messages.set(letter.reason, (messages.get(letter.reason) ?? 0) + 1);
      if (letter.stripped) unwritable++;
    }
    return { messages: letters.map((l) => l.message), tally: { records, messages, unwritable }, letters };
  }

  /** The batch's transaction committed: its letters are written, their offsets need no memory. */
  committed(batch: DeadLetterBatch): void {
    for (const letter of batch.letters) {
      if (!letter.stripped) continue;
      this.tooLarge.delete(letter.offset);
      const { headers } = letter.message;
      this.options.log.warn(
        { source_partition: headers?.[DEAD_LETTER_HEADERS.partition], source_offset: letter.offset, reason: letter.reason, value_bytes: headers?.[DEAD_LETTER_HEADERS.valueBytes] },
        'dead letter written without its original bytes: too large for the dead-letter topic',
      );
    }
  }

  /**
   * The batch's transaction aborted: the records are read again, and so are their letters. When
   * Kafka refused it as too large, the largest letters that still carried their bytes (those over
   * Kafka's default limit, or else the largest one) are written without them on the replay.
   */
  aborted(batch: DeadLetterBatch, error: unknown): void {
    if (!isTooLarge(error)) return;
    const carrying = batch.letters.filter((l) => !l.stripped && l.message.value !== null);
    if (carrying.length === 0) return;
    const over = carrying.filter((l) => l.bytes > KAFKA_DEFAULT_MESSAGE_BYTES - RECORD_BATCH_OVERHEAD);
    const largest = carrying.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    for (const letter of over.length > 0 ? over : [largest]) this.tooLarge.add(letter.offset);
  }

  /** The letter as it fits the topic: whole, else without the value, else without key and value. */
  private fit(message: OutgoingMessage & { readonly topic: string }, forceDrop: boolean): Omit<Letter, 'offset' | 'counts' | 'reason'> {
    const bytes = recordBytes(message);
    if (!forceDrop && bytes <= this.fitBytes) return { message, bytes, stripped: false };
    let slim: OutgoingMessage & { topic: string } = message;
    if (message.value !== null) {
      const headers = { ...message.headers, [DEAD_LETTER_HEADERS.valueDropped]: 'too_large', [DEAD_LETTER_HEADERS.valueBytes]: String(message.value.length) };
      slim = { ...message, value: null, headers };
    }
    if (recordBytes(slim) > this.fitBytes) slim = { ...slim, key: null, headers: { ...slim.headers, [DEAD_LETTER_HEADERS.keyDropped]: 'too_large' } };
    return { message: slim, bytes: recordBytes(slim), stripped: true };
  }
}

/** A message's first distinct details, each cleaned and capped, for the `sluice.detail` header. */
class DistinctDetails {
  private readonly kept: string[] = [];
  private more = false;

  add(detail: string): void {
    if (this.more) return;
    const capped = capUtf8(clean(detail), DETAIL_MAX_BYTES);
    if (this.kept.includes(capped)) return;
    if (this.kept.length < DETAILS_KEPT) this.kept.push(capped);
    else this.more = true;
  }

  header(): string {
    const text = this.kept.join(DETAIL_SEPARATOR) + (this.more ? `${DETAIL_SEPARATOR}${MORE_DETAILS}` : '');
    return capUtf8(text, DETAILS_MAX_BYTES);
  }
}

/** Control characters (line breaks included) become spaces: a header is one line of text. */
function clean(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
}

/**
 * `text` in at most `maxBytes` of UTF-8, cut on a character boundary and marked with `…` when
 * cut. Lone surrogates count as the U+FFFD they are encoded as.
 */
export function capUtf8(text: string, maxBytes: number): string {
  // A UTF-16 code unit is at most 3 UTF-8 bytes: short strings need no encoding.
  if (text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes - Buffer.byteLength(MORE_DETAILS);
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--; // back to the start of a character
  return bytes.subarray(0, end).toString('utf8') + MORE_DETAILS;
}

/** Kafka refused a record batch (or a request) as too large, anywhere in the error's cause chain. */
export function isTooLarge(error: unknown): boolean {
  for (let e = error as { type?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 8; e = e.cause as typeof e, depth++) {
    if (e.type === 'MESSAGE_TOO_LARGE' || e.type === 'RECORD_LIST_TOO_LARGE') return true;
    if (typeof e.message === 'string' && /too large/i.test(e.message)) return true;
  }
  return false;
}
