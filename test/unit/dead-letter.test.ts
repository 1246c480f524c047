import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Rejection } from '../../src/core/dead-letter-reason.ts';
import {
  capUtf8,
  DEAD_LETTER_HEADERS as H,
  DEAD_LETTER_HEADROOM_BYTES,
  DeadLetters,
  deadLetterTopicMaxBytes,
  DETAILS_MAX_BYTES,
  isTooLarge,
  KAFKA_DEFAULT_MESSAGE_BYTES,
} from '../../src/runtime/dead-letter.ts';
import type { SourceRecord } from '../../src/sources/kafka/client.ts';
import { chunksBySize, recordBytes } from '../../src/sources/kafka/record-size.ts';

const log = pino({ level: 'silent' });
const TOPIC = 'sluice.test.dlq';

function deadLetters(topicMaxBytes = deadLetterTopicMaxBytes(1_048_576)): DeadLetters {
  return new DeadLetters({ pipeline: 'test', topic: TOPIC, topicMaxBytes, log });
}

function record(offset: number, value: Buffer | null, key: Buffer | null = Buffer.from(`key-${offset}`)): SourceRecord {
  return { topic: 'node.metrics', partition: 2, offset, key, value, headers: {} };
}

const unroutable: Rejection = { reason: 'unroutable', detail: 'field "tenant_key" has no tenant mapping' };
const late: Rejection = { reason: 'late', detail: 'older than its partition watermark minus allowed_lateness' };
const header = (message: { headers?: Record<string, Buffer | string> }, name: string) => message.headers?.[name]?.toString();

describe('dead letters: one per source message', () => {
  it('writes a message with 51 unroutable and 2 late samples once, with counts per reason and its origin', () => {
    const letters = deadLetters();
    const value = Buffer.from('x'.repeat(380 * 1024));
    letters.add(record(7, value), [...Array.from({ length: 51 }, () => unroutable), late, late]);
    const batch = letters.drain();
    expect(batch.messages).toHaveLength(1);
    const [message] = batch.messages;
    expect(message!.topic).toBe(TOPIC);
    expect(message!.key).toEqual(Buffer.from('key-7'));
    expect(message!.value).toBe(value);
    expect(message!.headers).toEqual({
      [H.reason]: 'unroutable',
      [H.reasons]: 'unroutable=51,late=2',
      [H.detail]: `${unroutable.detail} | ${late.detail}`,
      [H.pipeline]: 'test',
      [H.topic]: 'node.metrics',
      [H.partition]: '2',
      [H.offset]: '7',
    });
    expect(batch.tally).toEqual({ records: new Map([['unroutable', 51], ['late', 2]]), messages: new Map([['unroutable', 1]]), unwritable: 0 });
    expect(letters.size).toBe(0);
  });

  it('names the reason with most records, ties by the reasons\' fixed order', () => {
    const letters = deadLetters();
    letters.add(record(1, Buffer.from('a')), [late, late, unroutable]);
    letters.add(record(2, Buffer.from('b')), [late, unroutable]);
    letters.add(record(3, Buffer.from('c')), [{ reason: 'malformed', detail: 'prometheus_text line 3: bad' }]);
    const batch = letters.drain();
    expect(batch.messages.map((m) => [header(m, H.reason), header(m, H.reasons)])).toEqual([
      ['late', 'late=2,unroutable=1'],
      ['unroutable', 'unroutable=1,late=1'],
      ['malformed', 'malformed=1'],
    ]);
    expect(batch.tally.messages).toEqual(new Map([['late', 1], ['unroutable', 1], ['malformed', 1]]));
    expect(batch.tally.records).toEqual(new Map([['late', 3], ['unroutable', 2], ['malformed', 1]]));
  });

  it('keeps the first distinct details, each capped, 1 KiB in all, on one line', () => {
    const letters = deadLetters();
    const huge = `prometheus_text line 1: bad metric name "${'n'.repeat(500 * 1024)}"`;
    const rejections: Rejection[] = [
      { reason: 'malformed', detail: huge },
      { reason: 'invalid_value', detail: 'first\nsecond\r\nthird' },
      ...Array.from({ length: 20 }, (_, i): Rejection => ({ reason: 'invalid_value', detail: `detail ${i} ${'€'.repeat(200)}` })),
    ];
    letters.add(record(1, Buffer.from('v')), rejections);
    const detail = header(letters.drain().messages[0]!, H.detail)!;
    expect(Buffer.byteLength(detail)).toBeLessThanOrEqual(DETAILS_MAX_BYTES);
    expect(detail.startsWith('prometheus_text line 1: bad metric name "nnn')).toBe(true);
    expect(detail).toContain(' | first second third | detail 0 €');
    expect(detail).not.toMatch(/[\u0000-\u001f\ufffd]/);
    expect(detail.endsWith('…')).toBe(true);
    const parts = detail.split(' | ');
    expect(Buffer.byteLength(parts[0]!)).toBeLessThanOrEqual(256);
  });

  it('says so when distinct details were left out', () => {
    const letters = deadLetters();
    letters.add(
      record(1, Buffer.from('v')),
      Array.from({ length: 6 }, (_, i): Rejection => ({ reason: 'schema', detail: `d${i}` })),
    );
    expect(header(letters.drain().messages[0]!, H.detail)).toBe('d0 | d1 | d2 | d3 | …');
  });

  it('writes a letter that would not fit the topic without the original bytes, then without the key', () => {
    const letters = deadLetters(100_000);
    letters.add(record(1, Buffer.alloc(99_950)), [{ reason: 'oversized', detail: '99950 bytes > 50000' }]);
    letters.add(record(2, Buffer.alloc(10), Buffer.alloc(200_000)), [unroutable]);
    letters.add(record(3, Buffer.alloc(90_000)), [unroutable]);
    const batch = letters.drain();
    const [first, second, third] = batch.messages;
    expect(first!.value).toBeNull();
    expect(first!.key).toEqual(Buffer.from('key-1'));
    expect(header(first!, H.valueDropped)).toBe('too_large');
    expect(header(first!, H.valueBytes)).toBe('99950');
    expect(header(first!, H.keyDropped)).toBeUndefined();
    expect(header(first!, H.reason)).toBe('oversized');
    expect(second!.value).toBeNull();
    expect(second!.key).toBeNull();
    expect(header(second!, H.keyDropped)).toBe('too_large');
    expect(third!.value).toHaveLength(90_000);
    expect(header(third!, H.valueDropped)).toBeUndefined();
    for (const m of batch.messages) expect(recordBytes(m)).toBeLessThanOrEqual(100_000);
    expect(batch.tally.unwritable).toBe(2);
  });

  it('leaves out only what is there: a tombstone with a huge key loses the key, and says so', () => {
    const letters = deadLetters(100_000);
    letters.add(record(1, null, Buffer.alloc(150_000)), [{ reason: 'malformed', detail: 'empty message (tombstone)' }]);
    const batch = letters.drain();
    const [letter] = batch.messages;
    expect(letter!.key).toBeNull();
    expect(letter!.value).toBeNull();
    expect(header(letter!, H.keyDropped)).toBe('too_large');
    expect(header(letter!, H.valueDropped)).toBeUndefined();
    expect(batch.tally.unwritable).toBe(1);
  });

  it('after Kafka refuses a transaction as too large, the replay writes the largest letter without its bytes', () => {
    const letters = deadLetters();
    const add = () => {
      letters.add(record(10, Buffer.alloc(300_000)), [unroutable]);
      letters.add(record(11, Buffer.alloc(900_000)), [{ reason: 'malformed', detail: 'x' }]);
      letters.add(record(12, Buffer.alloc(5)), [late]);
    };
    add();
    letters.aborted(letters.drain(), Object.assign(new Error('The request included a message larger than the max message size the server will accept'), { type: 'MESSAGE_TOO_LARGE' }));
    add();
    const replay = letters.drain();
    expect(replay.messages.map((m) => m.value?.length ?? null)).toEqual([300_000, null, 5]);
    expect(header(replay.messages[1]!, H.valueDropped)).toBe('too_large');
    expect(replay.tally.unwritable).toBe(1);
    // Still too large: the next largest goes too. Then the commit forgets the offsets.
    letters.aborted(replay, { name: 'KafkaJSNumberOfRetriesExceeded', cause: { type: 'RECORD_LIST_TOO_LARGE' } });
    add();
    const second = letters.drain();
    expect(second.messages.map((m) => m.value?.length ?? null)).toEqual([null, null, 5]);
    letters.committed(second);
    add();
    expect(letters.drain().messages.map((m) => m.value?.length ?? null)).toEqual([300_000, 900_000, 5]);
  });

  it('drops the bytes of every letter over Kafka\'s default limit at once, and nothing for other failures', () => {
    const letters = deadLetters(deadLetterTopicMaxBytes(4 * 1_048_576));
    const add = () => {
      letters.add(record(1, Buffer.alloc(2 * 1_048_576)), [{ reason: 'malformed', detail: 'x' }]);
      letters.add(record(2, Buffer.alloc(1_500_000)), [unroutable]);
      letters.add(record(3, Buffer.alloc(400_000)), [unroutable]);
    };
    add();
    letters.aborted(letters.drain(), new Error('The coordinator is not available'));
    add();
    const same = letters.drain();
    expect(same.messages.map((m) => m.value?.length ?? null)).toEqual([2 * 1_048_576, 1_500_000, 400_000]);
    letters.aborted(same, { type: 'MESSAGE_TOO_LARGE' });
    add();
    expect(letters.drain().messages.map((m) => m.value?.length ?? null)).toEqual([null, null, 400_000]);
  });
});

describe('dead-letter sizes', () => {
  it('sizes the dead-letter topic above the largest message, never below Kafka\'s default', () => {
    expect(deadLetterTopicMaxBytes(4_194_304)).toBe(4_194_304 + DEAD_LETTER_HEADROOM_BYTES);
    expect(deadLetterTopicMaxBytes(1_000)).toBe(KAFKA_DEFAULT_MESSAGE_BYTES + DEAD_LETTER_HEADROOM_BYTES);
  });

  it('cuts UTF-8 on character boundaries', () => {
    expect(capUtf8('short', 10)).toBe('short');
    for (const text of ['€'.repeat(100), '😀'.repeat(100), `a${'é'.repeat(100)}`, '\ud800'.repeat(100)]) {
      for (let max = 4; max < 40; max++) {
        const capped = capUtf8(text, max);
        expect(Buffer.byteLength(capped), `${text.slice(0, 2)} ${max}`).toBeLessThanOrEqual(max);
        expect(Buffer.from(capped, 'utf8').toString('utf8')).toBe(capped);
        expect(capped.endsWith('…')).toBe(true);
        expect(capped.slice(0, -1).includes('\ufffd') && !text.includes('\ud800')).toBe(false);
      }
    }
  });

  it('recognises Kafka\'s too-large errors in the cause chain only', () => {
    expect(isTooLarge({ type: 'MESSAGE_TOO_LARGE' })).toBe(true);
    expect(isTooLarge(new Error('x', { cause: { type: 'RECORD_LIST_TOO_LARGE' } }))).toBe(true);
    expect(isTooLarge(new Error('There is no leader for this topic-partition'))).toBe(false);
    expect(isTooLarge(undefined)).toBe(false);
  });

  it('sends a transaction in runs of at most the chunk size, a larger message alone, in order', () => {
    const message = (n: number) => ({ topic: 't', key: null, value: Buffer.alloc(n) });
    const items = [message(400), message(400), message(400), message(5_000), message(100), message(100)];
    const chunks = chunksBySize(items, 1_000);
    expect(chunks.map((c) => c.map((m) => m.value.length))).toEqual([[400, 400], [400], [5_000], [100, 100]]);
    expect(chunks.flat()).toEqual(items);
    for (const chunk of chunks) if (chunk.length > 1) expect(chunk.reduce((n, m) => n + recordBytes(m), 0)).toBeLessThanOrEqual(1_000);
  });
});
