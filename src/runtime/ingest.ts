import { resolve } from 'node:path';
import { AvroContract } from '../codecs/avro/contract.ts';
import type { Decoder } from '../codecs/decoder.ts';
import { JsonDecoder } from '../codecs/json/index.ts';
import type { Rejection } from '../core/dead-letter-reason.ts';
import type { LoadedPipeline } from '../config/load.ts';
import { compileEventTime, type EventTimeExtractor } from '../operators/event-time.ts';
import { TenantResolver } from '../tenancy/resolve.ts';

export interface Ingested {
  readonly tenant: string;
  readonly eventTimeMs: number;
  readonly record: Record<string, unknown>;
}

/**
 * The per-record front of a pipeline: size check, decode, contract check, tenant resolution and
 * event time. Everything is built from the config once; `ingest` only runs compiled steps.
 */
export class Ingest {
  private readonly maxBytes: number;
  private readonly decoder: Decoder;
  private readonly contract: AvroContract | undefined;
  private readonly tenants: TenantResolver;
  private readonly eventTime: EventTimeExtractor;

  constructor({ config, baseDir }: LoadedPipeline) {
    this.maxBytes = config.decode.max_message_bytes;
    this.decoder = new JsonDecoder();
    this.contract = config.decode.schema ? AvroContract.fromFile(resolve(baseDir, config.decode.schema)) : undefined;
    this.tenants = new TenantResolver(config.tenant.field, Object.keys(config.tenants));
    this.eventTime = compileEventTime(config.event_time.field, config.event_time.format);
  }

  ingest(value: Buffer | null): Ingested | Rejection {
    if (value === null) return { reason: 'malformed', detail: 'empty message (tombstone)' };
    if (value.length > this.maxBytes) return { reason: 'oversized', detail: `${value.length} bytes > ${this.maxBytes}` };
    const decoded = this.decoder.decode(value);
    if (!decoded.ok) return decoded;
    const record = decoded.record;
    const violation = this.contract?.check(record);
    if (violation) return violation;
    const tenant = this.tenants.resolve(record);
    if (typeof tenant !== 'string') return tenant;
    const eventTimeMs = this.eventTime(record);
    if (eventTimeMs === undefined) return { reason: 'no_event_time', detail: 'event-time field is missing or not a valid time' };
    return { tenant, eventTimeMs, record };
  }
}

export function isRejection(result: Ingested | Rejection): result is Rejection {
  return (result as Rejection).reason !== undefined;
}
