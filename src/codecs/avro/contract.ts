import { readFileSync } from 'node:fs';
import avro from 'avsc';
import type { Rejection } from '../../core/dead-letter-reason.ts';
import { compileAvroCheck, compileAvroFieldChecks, type AvroCheck, type AvroFieldCheck } from './compiled-check.ts';

/**
 * A record contract given as an Avro schema (`schemas/*.avsc`), checked against decoded JSON.
 * Fields the schema does not name are allowed (a reader ignores what a newer writer added);
 * missing fields are allowed only when the schema gives a default.
 */
export class AvroContract {
  private readonly type: avro.Type;
  /** avsc's verdict, from a check compiled for the schema (compiled-check.ts). */
  private readonly isValid: AvroCheck;
  /** The same verdict field by field, for a decoder that checks a record as it reads it; undefined unless the schema is a record. */
  readonly fieldChecks: readonly AvroFieldCheck[] | undefined;

  constructor(schema: avro.Schema, readonly name: string) {
    this.type = avro.Type.forSchema(schema);
    const type = this.type;
    this.isValid = compileAvroCheck(type) ?? ((value) => type.isValid(value));
    this.fieldChecks = compileAvroFieldChecks(type);
  }

  static fromFile(path: string): AvroContract {
    return new AvroContract(JSON.parse(readFileSync(path, 'utf8')) as avro.Schema, path);
  }

  /** Undefined when valid; otherwise the offending fields and their expected types. */
  check(record: unknown): Rejection | undefined {
    // Fast path: one validation without a hook; only a failure pays for collecting paths.
    if (this.isValid(record)) return undefined;
    const problems: string[] = [];
    this.type.isValid(record, {
      errorHook: (path, value, type) => {
        if (problems.length < 5) problems.push(`${path.join('.') || '<record>'}: expected ${describeType(type)}, got ${describeValue(value)}`);
      },
    });
    return { reason: 'schema', detail: problems.join('; ') || 'does not match the schema' };
  }
}

function describeType(type: avro.Type): string {
  const schema = type.schema() as unknown;
  if (typeof schema === 'string') return schema;
  if (Array.isArray(schema)) return schema.map((s) => (typeof s === 'string' ? s : (s as { type: string }).type)).join(' | ');
  return (schema as { type: string }).type;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (missing)';
  if (value === null) return 'null';
  // Never echo the content of strings: they may carry user data.
  return Array.isArray(value) ? 'an array' : typeof value;
}
