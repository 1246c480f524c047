import type { DecodeContext, Decoder } from '../codecs/decoder.ts';
import { createDecoder } from '../codecs/index.ts';
import type { Rejection } from '../core/dead-letter-reason.ts';
import type { LoadedPipeline } from '../config/load.ts';
import { compileEventTime, type EventTimeExtractor } from '../operators/event-time.ts';
import { compileTransforms, type RecordTransform } from '../operators/transforms/index.ts';
import { tappedDecoder } from '../telemetry/tap/offer.ts';
import { TenantResolver } from '../tenancy/resolve.ts';

export interface Ingested {
  readonly tenant: string;
  readonly eventTimeMs: number;
  readonly record: Record<string, unknown>;
}

/** A message's usable records, a rejection for each record that is not usable, and how many were filtered out. */
export interface IngestedMessage {
  readonly records: Ingested[];
  readonly rejections: readonly Rejection[];
  readonly filtered: number;
}

const NO_REJECTIONS: readonly Rejection[] = Object.freeze([]);

/**
 * The per-message front of a pipeline: size check, decode (which also checks the record
 * contract), then per record the transforms (filter, compute, relabel), the tenant and the event
 * time. Everything is built from the config once; `ingest` only runs compiled steps. A
 * message-level failure rejects the whole message.
 */
export class Ingest {
  private readonly maxBytes: number;
  private readonly decoder: Decoder;
  private readonly tenants: TenantResolver;
  private readonly eventTime: EventTimeExtractor;
  private readonly transform: RecordTransform | undefined;

  constructor({ config, baseDir }: LoadedPipeline) {
    this.maxBytes = config.source.max_message_bytes;
    this.decoder = tappedDecoder(config.name, createDecoder(config.decode, { baseDir, maxMessageBytes: this.maxBytes }));
    this.tenants = new TenantResolver(config.tenant.field, config.tenants, config.tenant.map);
    this.transform = compileTransforms(config.transforms, config.constants, config.expression_budget);
    this.eventTime = compileEventTime(config.event_time.field, config.event_time.format);
  }

  ingest(value: Buffer | null, context: DecodeContext): IngestedMessage | Rejection {
    if (value === null) return { reason: 'malformed', detail: 'empty message (tombstone)' };
    if (value.length > this.maxBytes) return { reason: 'oversized', detail: `${value.length} bytes > ${this.maxBytes}` };
    const decoded = this.decoder.decode(value, context);
    if (!decoded.ok) return { reason: decoded.reason, detail: decoded.detail };
    const records: Ingested[] = [];
    // Allocated at the first rejection: almost every message has none.
    let rejections: Rejection[] | undefined;
    let filtered = 0;
    const decodedRecords = decoded.records;
    for (let i = 0; i < decodedRecords.length; i++) {
      const record = decodedRecords[i]!;
      if (this.transform) {
        const outcome = this.transform(record);
        if (outcome === 'drop') {
          filtered++;
          continue;
        }
        if (outcome !== 'keep') {
          (rejections ??= []).push(outcome);
          continue;
        }
      }
      const tenant = this.tenants.resolve(record);
      if (typeof tenant !== 'string') {
        (rejections ??= []).push(tenant);
        continue;
      }
      const eventTimeMs = this.eventTime(record);
      if (eventTimeMs === undefined) {
        (rejections ??= []).push({ reason: 'no_event_time', detail: 'event-time field is missing or not a valid time' });
        continue;
      }
      records.push({ tenant, eventTimeMs, record });
    }
    return { records, rejections: rejections ?? NO_REJECTIONS, filtered };
  }
}
