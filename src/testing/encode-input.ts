import avro from 'avsc';
import { readSchemaFile } from '../codecs/avro/schema-file.ts';
import type { DecodeConfig } from '../codecs/index.ts';
import type { TestInput } from './config.ts';
import { otlpJsonToProto } from './otlp-json-to-proto.ts';

/** An input the pipeline's codec cannot be fed as written (Avro JSON for a JSON pipeline, say). */
export class InputError extends Error {}

/**
 * Turns test inputs into the message bytes a producer would have written, for the pipeline's
 * codec: JSON text, Avro binary (Confluent-framed when the pipeline reads that framing), OTLP as
 * JSON text or protobuf, or text as written. Writer schemas are read once per pipeline.
 */
export class InputEncoder {
  private readonly avroTypes = new Map<number | 'plain', avro.Type>();

  constructor(
    private readonly decode: DecodeConfig,
    private readonly baseDir: string,
  ) {}

  encode(input: TestInput): Buffer {
    if (input.text !== undefined) return Buffer.from(input.text, 'utf8');
    if (input.json !== undefined) return Buffer.from(JSON.stringify(input.json), 'utf8');
    if (input.otlp_json !== undefined) {
      if (this.decode.codec === 'otlp_proto') return otlpJsonToProto(input.otlp_json);
      if (this.decode.codec === 'otlp_json') return Buffer.from(JSON.stringify(input.otlp_json), 'utf8');
      throw new InputError(`otlp_json inputs need codec otlp_proto or otlp_json, not ${this.decode.codec}`);
    }
    if (input.avro_json !== undefined) return this.encodeAvro(input.avro_json, input.schema_id);
    throw new InputError('the input has no body');
  }

  private encodeAvro(record: Record<string, unknown>, schemaId: number | undefined): Buffer {
    const decode = this.decode;
    if (decode.codec !== 'avro') throw new InputError(`avro_json inputs need codec avro, not ${decode.codec}`);
    if (decode.framing === 'plain') return this.avroBody(this.avroType('plain', decode.schema!), record);
    const ids = Object.keys(decode.schema_ids ?? {}).map(Number).sort((a, b) => a - b);
    const id = schemaId ?? ids[0]!;
    const file = decode.schema_ids?.[String(id)];
    if (file === undefined) throw new InputError(`schema_id ${id} is not one of decode.schema_ids (${ids.join(', ')})`);
    const header = Buffer.alloc(5);
    header.writeUInt32BE(id, 1); // byte 0 is the magic byte 0x00
    return Buffer.concat([header, this.avroBody(this.avroType(id, file), record)]);
  }

  private avroType(id: number | 'plain', file: string): avro.Type {
    let type = this.avroTypes.get(id);
    if (!type) {
      type = avro.Type.forSchema(readSchemaFile(this.baseDir, file, ['decode']), { wrapUnions: 'auto' });
      this.avroTypes.set(id, type);
    }
    return type;
  }

  /** Avro's JSON encoding (unions wrapped as `{"string": "x"}`), or plain JSON values where that is unambiguous. */
  private avroBody(type: avro.Type, record: Record<string, unknown>): Buffer {
    let value: unknown;
    try {
      value = type.fromString(JSON.stringify(record));
    } catch {
      value = record;
    }
    const problems: string[] = [];
    if (!type.isValid(value, { errorHook: (path) => problems.push(path.join('.') || '(record)') })) {
      throw new InputError(`avro_json does not match the writer schema at ${problems.slice(0, 3).join(', ')}`);
    }
    return type.toBuffer(value);
  }
}
