import {
  fixed64NanosSubMs,
  fixed64NanosToMs,
  newSpanRecord,
  setSpanTimes,
  spanKindName,
  statusCodeName,
  type AttributeValue,
  type OtlpSpanRecord,
  type SpanEventRecord,
} from '../otlp/span-record.ts';
import * as wire from '../otlp/wire.ts';
import { AttributeDecoder } from './attribute-decoder.ts';
import { WireError } from './proto-cursor.ts';

/**
 * Reads an `ExportTraceServiceRequest` straight into flat span records, on protobufjs's `Reader`.
 *
 * Why a walker instead of protobufjs reflection (`Type.decode`) plus a conversion: one pass
 * instead of building the nested message tree and copying it; content attributes are skipped
 * without decoding their strings; a known field with the wrong wire type is an error (protobufjs
 * would silently keep it as an unknown field); and every error says where it happened
 * (`resource_spans[0].scope_spans[0].spans[3].attributes[2]`) instead of protobufjs's bare
 * "index out of range". Message boundaries are enforced the way protobufjs's generated code does
 * it: `reader.len` is narrowed to the end of the message being read, so no read can cross it.
 *
 * This module walks the message structure (resource, scope, span, event, status); the reading
 * primitives and error positions are in proto-cursor.ts, attribute values in attribute-decoder.ts.
 */
export class OtlpProtoWalker extends AttributeDecoder {
  private readonly records: OtlpSpanRecord[] = [];

  /**
   * The spans of the whole request; throws `WireError` (or a protobufjs error) on bad input.
   * An empty message is a request with no spans, as protobuf reads it: zero records, not an error.
   */
  request(): OtlpSpanRecord[] {
    const r = this.r;
    while (r.pos < r.len) {
      const at = r.pos;
      const tag = r.tag();
      if (tag >>> 3 !== REQUEST_RESOURCE_SPANS || (tag & 7) !== wire.LEN) {
        // The request has had one field since OTLP 0.x; anything else at the top means these bytes
        // are not an OTLP request at all (and `{` is what OTLP/JSON starts with).
        const hint = this.bytes[0] === 0x7b ? '; the message starts with "{": is it OTLP/JSON (codec otlp_json)?' : '';
        throw new WireError(`not an ExportTraceServiceRequest: field ${tag >>> 3} with wire type ${tag & 7} at byte ${at}${hint}`);
      }
      this.rs++;
      this.ss = -1;
      this.sp = -1;
      const saved = this.enter(REQUEST_RESOURCE_SPANS);
      this.resourceSpans();
      r.len = saved;
    }
    return this.records;
  }

  private resourceSpans(): void {
    const r = this.r;
    const first = this.records.length;
    const resource: Record<string, AttributeValue> = {};
    while (r.pos < r.len) {
      switch (this.field(RESOURCE_SPANS)) {
        case 1: {
          this.part = 'resource';
          const saved = this.enter(1);
          this.resource(resource);
          r.len = saved;
          this.part = '';
          break;
        }
        case 2: {
          this.ss++;
          this.sp = -1;
          const saved = this.enter(2);
          this.scopeSpans();
          r.len = saved;
          break;
        }
        case 3:
          this.skipLength(3);
          break;
      }
    }
    Object.freeze(resource);
    const records = this.records;
    for (let i = first; i < records.length; i++) records[i]!.resource = resource;
  }

  private resource(target: Record<string, AttributeValue>): void {
    const r = this.r;
    this.partIndex = -1;
    while (r.pos < r.len) {
      switch (this.field(RESOURCE)) {
        case 1: {
          this.part = 'resource.attributes';
          this.partIndex++;
          const saved = this.enter(1);
          this.keyValue(target, 0);
          r.len = saved;
          break;
        }
        case 2:
          r.skip();
          break;
        case 3:
          this.skipLength(3);
          break;
      }
    }
  }

  private scopeSpans(): void {
    const r = this.r;
    const first = this.records.length;
    let name = '';
    let version = '';
    while (r.pos < r.len) {
      switch (this.field(SCOPE_SPANS)) {
        case 1: {
          this.part = 'scope';
          const saved = this.enter(1);
          while (r.pos < r.len) {
            switch (this.field(SCOPE)) {
              case 1:
                name = this.text(1);
                break;
              case 2:
                version = this.text(2);
                break;
              case 3:
                this.skipLength(3);
                break;
              case 4:
                r.skip();
                break;
            }
          }
          r.len = saved;
          this.part = '';
          break;
        }
        case 2: {
          this.sp++;
          const saved = this.enter(2);
          this.records.push(this.span());
          r.len = saved;
          break;
        }
        case 3:
          this.skipLength(3);
          break;
      }
    }
    const scope = Object.freeze({ name, version });
    const records = this.records;
    for (let i = first; i < records.length; i++) records[i]!.scope = scope;
  }

  private span(): OtlpSpanRecord {
    const r = this.r;
    const record = newSpanRecord();
    let startHi = 0;
    let startLo = 0;
    let endHi = 0;
    let endLo = 0;
    let attributeIndex = -1;
    let eventIndex = -1;
    while (r.pos < r.len) {
      switch (this.field(SPAN)) {
        case 1:
          record.trace_id = this.id(1, 16);
          break;
        case 2:
          record.span_id = this.id(2, 8);
          break;
        case 3:
          this.skipLength(3);
          break;
        case 4:
          record.parent_span_id = this.id(4, 8);
          break;
        case 5:
          record.name = this.text(5);
          break;
        case 6:
          record.kind = spanKindName(r.int32());
          break;
        case 7:
          this.need(8, 7);
          startLo = r.fixed32();
          startHi = r.fixed32();
          break;
        case 8:
          this.need(8, 8);
          endLo = r.fixed32();
          endHi = r.fixed32();
          break;
        case 9: {
          this.part = 'attributes';
          this.partIndex = ++attributeIndex;
          const saved = this.enter(9);
          this.keyValue(record.attributes, 0);
          r.len = saved;
          this.part = '';
          break;
        }
        case 11: {
          this.part = 'events';
          this.partIndex = ++eventIndex;
          const saved = this.enter(11);
          record.events.push(this.event());
          r.len = saved;
          this.part = '';
          break;
        }
        case 13:
          this.skipLength(13);
          break;
        case 15: {
          this.part = 'status';
          this.partIndex = -1;
          const saved = this.enter(15);
          this.status(record);
          r.len = saved;
          this.part = '';
          break;
        }
        case 16:
          this.need(4, 16);
          r.pos += 4;
          break;
        case 10:
        case 12:
        case 14:
          r.skip();
          break;
      }
    }
    setSpanTimes(
      record,
      fixed64NanosToMs(startHi, startLo),
      fixed64NanosSubMs(startHi, startLo),
      fixed64NanosToMs(endHi, endLo),
      fixed64NanosSubMs(endHi, endLo),
    );
    return record;
  }

  private event(): SpanEventRecord {
    const r = this.r;
    const event: SpanEventRecord = { name: '', time_ms: 0, attributes: {} };
    while (r.pos < r.len) {
      switch (this.field(SPAN_EVENT)) {
        case 1: {
          this.need(8, 1);
          const lo = r.fixed32();
          const hi = r.fixed32();
          event.time_ms = fixed64NanosToMs(hi, lo);
          break;
        }
        case 2:
          event.name = this.text(2);
          break;
        case 3: {
          const saved = this.enter(3);
          this.keyValue(event.attributes, 0);
          r.len = saved;
          break;
        }
        case 4:
          r.skip();
          break;
      }
    }
    return event;
  }

  private status(record: OtlpSpanRecord): void {
    const r = this.r;
    while (r.pos < r.len) {
      switch (this.field(STATUS)) {
        case 2: {
          // Exception text (see content.ts): read, so it is validated, but kept only on request.
          const message = this.text(2);
          if (this.keepContent) record.status_message = message;
          break;
        }
        case 3:
          record.status_code = statusCodeName(r.int32());
          break;
      }
    }
  }

  /** A trace or span id: `size` bytes as lowercase hex, or '' when empty (an unset id). */
  private id(number: number, size: number): string {
    const r = this.r;
    const at = r.pos;
    const length = this.lengthOf(number);
    if (length !== size && length !== 0) {
      throw new WireError(`invalid id at byte ${at} in ${this.where()} (field ${number} ${SPAN[number]![0]}: ${length} bytes, expected ${size})`);
    }
    const start = r.pos;
    r.pos += length;
    return this.bytes.toString('hex', start, start + length);
  }
}

const REQUEST_RESOURCE_SPANS = wire.ExportTraceServiceRequest.resource_spans[0];
const RESOURCE_SPANS = wire.fieldTable(wire.ResourceSpans);
const RESOURCE = wire.fieldTable(wire.Resource);
const SCOPE_SPANS = wire.fieldTable(wire.ScopeSpans);
const SCOPE = wire.fieldTable(wire.InstrumentationScope);
const SPAN = wire.fieldTable(wire.Span);
const SPAN_EVENT = wire.fieldTable(wire.SpanEvent);
const STATUS = wire.fieldTable(wire.Status);
