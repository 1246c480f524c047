import type { Rejection } from '../core/dead-letter-reason.ts';
import type { OutgoingMessage, SourceRecord } from '../sources/kafka/client.ts';

/** Header names on dead-letter records: the reason, and where the original came from. */
export const DEAD_LETTER_HEADERS = {
  reason: 'sluice.reason',
  detail: 'sluice.detail',
  pipeline: 'sluice.pipeline',
  topic: 'sluice.source.topic',
  partition: 'sluice.source.partition',
  offset: 'sluice.source.offset',
} as const;

/** The dead-letter message for a rejected record: its original key and bytes, the reason and its origin in headers. */
export function deadLetterMessage(record: SourceRecord, rejection: Rejection, pipeline: string): OutgoingMessage {
  return {
    key: record.key,
    value: record.value,
    headers: {
      [DEAD_LETTER_HEADERS.reason]: rejection.reason,
      [DEAD_LETTER_HEADERS.detail]: rejection.detail,
      [DEAD_LETTER_HEADERS.pipeline]: pipeline,
      [DEAD_LETTER_HEADERS.topic]: record.topic,
      [DEAD_LETTER_HEADERS.partition]: String(record.partition),
      [DEAD_LETTER_HEADERS.offset]: String(record.offset),
    },
  };
}
