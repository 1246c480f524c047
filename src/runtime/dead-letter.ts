import type { Rejection } from '../core/dead-letter-reason.ts';
import type { OutgoingMessage, Producer, SourceRecord } from '../sources/kafka/client.ts';

/** Header names on dead-letter records: the reason, and where the original came from. */
export const DEAD_LETTER_HEADERS = {
  reason: 'sluice.reason',
  detail: 'sluice.detail',
  pipeline: 'sluice.pipeline',
  topic: 'sluice.source.topic',
  partition: 'sluice.source.partition',
  offset: 'sluice.source.offset',
} as const;

/**
 * Collects rejected records of a batch and writes them, original bytes untouched, to the
 * dead-letter topic before the batch's offsets can be committed.
 */
export class DeadLetterWriter {
  private pending: OutgoingMessage[] = [];

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly pipeline: string,
  ) {}

  add(record: SourceRecord, rejection: Rejection): void {
    this.pending.push({
      key: record.key,
      value: record.value,
      headers: {
        [DEAD_LETTER_HEADERS.reason]: rejection.reason,
        [DEAD_LETTER_HEADERS.detail]: rejection.detail,
        [DEAD_LETTER_HEADERS.pipeline]: this.pipeline,
        [DEAD_LETTER_HEADERS.topic]: record.topic,
        [DEAD_LETTER_HEADERS.partition]: String(record.partition),
        [DEAD_LETTER_HEADERS.offset]: String(record.offset),
      },
    });
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const messages = this.pending;
    this.pending = [];
    await this.producer.send(this.topic, messages);
  }
}
