import type avro from 'avsc';
import type { DeadLetterReason } from '../../core/dead-letter-reason.ts';
import {
  accept,
  CodecConfigError,
  malformed,
  type DecodedRecord,
  type DecodeContext,
  type DecodeOutcome,
  type Decoder,
  type DecoderOptions,
} from '../decoder.ts';
import type { AvroDecodeConfig } from './config.ts';
import { boundedTap, type AvroTap } from './bounded-tap.ts';
import { CONFLUENT_HEADER_BYTES, readConfluentHeader } from './confluent.ts';
import { compilePlainer, type Plainer } from './plain-values.ts';
import { describeResolutionError } from './resolution-error.ts';
import { compileDecodingType, readSchemaFile } from './schema-file.ts';

import { avroDecodeConfigSchema } from './config.ts';
import type { CodecType } from '../codec-type.ts';

export { avroDecodeConfigSchema, type AvroDecodeConfig } from './config.ts';

/**
 * A message whose schema id is not configured is a gap in the config (a producer moved to a new
 * schema version), not garbage: it should be replayed from the dead-letter topic once the id is
 * added. Until the vocabulary has its own reason (proposed: `unknown_schema`) it counts as `malformed`.
 */
const UNKNOWN_SCHEMA_REASON: DeadLetterReason = 'malformed';

/** Everything needed to decode bodies written with one writer schema, compiled once. */
interface WriterPlan {
  /** Reads one body: the writer type itself, or the resolver from it to the reader schema. */
  readonly read: Reader;
  readonly plain: Plainer;
  /** For details: the writer schema's file. */
  readonly label: string;
}

/**
 * Decodes Avro binary records, plain (one configured writer schema) or in the Confluent wire
 * format (the writer schema chosen by the id in each message). With a reader schema, every writer
 * is resolved to it once, here, so an incompatible schema fails at load time, not on a message.
 */
export function createAvroDecoder(config: AvroDecodeConfig, options: DecoderOptions): Decoder {
  const reader =
    config.reader_schema === undefined
      ? undefined
      : loadType(options.baseDir, config.reader_schema, ['reader_schema']);
  if (config.framing === 'plain') {
    const file = config.schema!; // the config schema requires it for `plain`
    return new PlainAvroDecoder(plan(loadType(options.baseDir, file, ['schema']), reader, file, config.reader_schema, ['schema']));
  }
  const plans = new Map<number, WriterPlan>();
  for (const [id, file] of Object.entries(config.schema_ids ?? {})) {
    const path = ['schema_ids', id];
    plans.set(Number(id), plan(loadType(options.baseDir, file, path), reader, file, config.reader_schema, path));
  }
  return new ConfluentAvroDecoder(plans);
}

class PlainAvroDecoder implements Decoder {
  constructor(private readonly writer: WriterPlan) {}

  decode(bytes: Buffer, _context: DecodeContext): DecodeOutcome {
    return decodeBody(this.writer, bytes, 0, 'avro');
  }
}

class ConfluentAvroDecoder implements Decoder {
  private readonly known: string;

  constructor(private readonly writers: ReadonlyMap<number, WriterPlan>) {
    this.known = [...writers.keys()].sort((a, b) => a - b).join(', ');
  }

  decode(bytes: Buffer, _context: DecodeContext): DecodeOutcome {
    const id = readConfluentHeader(bytes);
    if (typeof id === 'string') return malformed(id);
    const writer = this.writers.get(id);
    if (writer === undefined) {
      return { ok: false, reason: UNKNOWN_SCHEMA_REASON, detail: `confluent: unknown schema id ${id} (configured: ${this.known})` };
    }
    return decodeBody(writer, bytes, CONFLUENT_HEADER_BYTES, `avro (schema id ${id})`);
  }
}

/**
 * What `avro.Type#decode` does, on a bounded tap (varint sizes, UTF-8: see bounded-tap.ts).
 * `_read` is avsc's per-type reader; a resolver's reads the writer's encoding into the reader's shape.
 */
function decodeBody(writer: WriterPlan, bytes: Buffer, start: number, prefix: string): DecodeOutcome {
  const tap = boundedTap(bytes, start);
  let value: unknown;
  try {
    value = writer.read._read(tap);
    if (!tap.isValid()) {
      return malformed(`${prefix}: truncated: the ${bytes.length - start}-byte body ends inside the record (${writer.label})`);
    }
    if (tap.pos !== bytes.length) {
      return malformed(`${prefix}: ${bytes.length - tap.pos} bytes after the end of the record at byte ${tap.pos} (${writer.label})`);
    }
    return accept([writer.plain(value) as DecodedRecord]);
  } catch (error) {
    // A recursive schema nested through unions alone (a linked list) is bounded by the stack only.
    const why = error instanceof RangeError ? 'records nested too deeply to read' : (error as Error).message;
    // avsc's messages and the tap's name indexes, counts and offsets ("invalid union index: 7"), never decoded content.
    return malformed(`${prefix}: ${why} (${writer.label}, ${bytes.length - start}-byte body)`);
  }
}

/** avsc's reader entry point on types and resolvers (not in its typings). */
interface Reader {
  _read(tap: AvroTap): unknown;
}

function loadType(baseDir: string, file: string, path: readonly (string | number)[]): avro.Type {
  const type = compileDecodingType(readSchemaFile(baseDir, file, path, true), path, file);
  if (type.typeName !== 'record') throw new CodecConfigError(path, `Avro schema ${file} is a ${type.typeName}; a decoded message must be a record`);
  return type;
}

function plan(writer: avro.Type, reader: avro.Type | undefined, writerFile: string, readerFile: string | undefined, path: readonly (string | number)[]): WriterPlan {
  if (reader === undefined) return { read: writer as unknown as Reader, plain: compilePlainer(writer), label: writerFile };
  let resolver: avro.Resolver;
  try {
    resolver = reader.createResolver(writer);
  } catch (error) {
    const why = describeResolutionError(reader, writer, (error as Error).message);
    throw new CodecConfigError(path, `records written with ${writerFile} cannot be read with reader_schema ${readerFile}: ${why}`);
  }
  return { read: resolver as unknown as Reader, plain: compilePlainer(reader), label: writerFile };
}

/** `codec: avro` in the codec registry (../index.ts). */
export const avroCodec: CodecType<typeof avroDecodeConfigSchema> = { codec: 'avro', schema: avroDecodeConfigSchema, create: createAvroDecoder };
