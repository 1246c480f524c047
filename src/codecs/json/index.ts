import { AvroContract } from '../avro/contract.ts';
import { readSchemaFile } from '../avro/schema-file.ts';
import {
  accept,
  malformed,
  schemaViolation,
  type DecodedRecord,
  type DecodeContext,
  type DecodeOutcome,
  type Decoder,
  type DecoderOptions,
} from '../decoder.ts';
import { escapedLoneSurrogateOffset } from '../text-validity.ts';
import { ASCII_TEXT, textOf, utf8Check } from '../utf8.ts';
import { bomLength } from './bom.ts';
import { FlatJsonScanner } from './flat-scanner.ts';
import type { JsonDecodeConfig } from './config.ts';
import { tooDeepDetail, tooDeepOffset } from './depth.ts';
import { describeJsonSyntaxError, loneSurrogateDetail } from './syntax-error.ts';

import { jsonDecodeConfigSchema } from './config.ts';
import type { CodecType } from '../codec-type.ts';

export { jsonDecodeConfigSchema, type JsonDecodeConfig } from './config.ts';

/**
 * Decodes JSON messages: one object per message (`framing: object`) or newline-delimited objects
 * (`framing: ndjson`), each optionally checked against an Avro contract. The schema file is read
 * and compiled here, once.
 */
export function createJsonDecoder(config: JsonDecodeConfig, options: DecoderOptions): Decoder {
  const contract = config.schema === undefined ? undefined : new AvroContract(readSchemaFile(options.baseDir, config.schema, ['schema']), config.schema);
  return config.framing === 'ndjson' ? new NdjsonDecoder(contract) : new ObjectDecoder(contract, flatScanner(options.readFields, contract));
}

/**
 * A scanner of the fields read, when the pipeline names them: not for `__proto__` (a store of
 * that key sets an object's prototype, where JSON.parse makes an own property), nor for a name
 * the scanner cannot compare with a key's raw bytes (one that JSON would escape, or not ASCII),
 * nor under a contract that is not a record.
 */
function flatScanner(readFields: readonly string[] | undefined, contract: AvroContract | undefined): FlatJsonScanner | undefined {
  if (readFields === undefined || readFields.includes('__proto__') || !readFields.every((name) => RAW_KEY.test(name))) return undefined;
  if (contract !== undefined && contract.fieldChecks === undefined) return undefined;
  return new FlatJsonScanner(readFields, contract?.fieldChecks);
}

class ObjectDecoder implements Decoder {
  /**
   * The outcome of every accepted message, its one record replaced each time: stage 1 reads an
   * outcome before it decodes the next message, and a new outcome and array per message were
   * ~90 B of its garbage per record (the Decoder contract: valid until the next decode).
   */
  private readonly accepted: DecodedRecord[] = [{}];
  private readonly outcome = accept(this.accepted);

  constructor(
    private readonly contract: AvroContract | undefined,
    /** Reads just the fields the pipeline uses from the messages it recognises (flat-scanner.ts). */
    private readonly scanner: FlatJsonScanner | undefined,
  ) {}

  decode(bytes: Buffer, _context: DecodeContext): DecodeOutcome {
    const utf8 = utf8Check(bytes);
    if (utf8 >= 0) return malformed(`not UTF-8: invalid byte sequence at byte ${utf8}`);
    if (utf8 === ASCII_TEXT && this.scanner !== undefined) {
      const scanned = this.scanner.scan(bytes);
      if (scanned !== undefined) {
        this.accepted[0] = scanned;
        return this.outcome;
      }
    }
    const start = bomLength(bytes);
    const tooDeep = tooDeepOffset(bytes, start, bytes.length);
    if (tooDeep >= 0) return malformed(tooDeepDetail(tooDeep));
    let value: unknown;
    try {
      value = JSON.parse(textOf(bytes, utf8, start, bytes.length));
    } catch {
      return malformed(`not JSON: ${describeJsonSyntaxError(bytes, start, bytes.length)}`);
    }
    if (!isPlainObject(value)) return malformed(`expected a JSON object, got ${describe(value)}`);
    const surrogate = escapedLoneSurrogateOffset(bytes, start);
    if (surrogate >= 0) return malformed(loneSurrogateDetail(surrogate));
    const violation = this.contract?.check(value);
    if (violation) return schemaViolation(violation.detail);
    this.accepted[0] = value;
    return this.outcome;
  }
}

/**
 * NDJSON (https://github.com/ndjson/ndjson-spec): lines end in `\n` (a `\r` before it is JSON
 * whitespace); blank lines are skipped. Any bad line rejects the whole message: a message is what
 * the dead-letter topic keeps, and accepting its other lines would make a replay from the DLQ
 * double-count them.
 */
class NdjsonDecoder implements Decoder {
  constructor(private readonly contract: AvroContract | undefined) {}

  decode(bytes: Buffer, _context: DecodeContext): DecodeOutcome {
    const utf8 = utf8Check(bytes);
    if (utf8 >= 0) return malformed(`not UTF-8: invalid byte sequence at byte ${utf8} (line ${lineOf(bytes, utf8)})`);
    const records: DecodedRecord[] = [];
    const length = bytes.length;
    let start = bomLength(bytes);
    for (let line = 1; start < length || line === 1; line++) {
      let end = bytes.indexOf(NEWLINE, start);
      if (end < 0) end = length;
      if (!isBlank(bytes, start, end)) {
        const tooDeep = tooDeepOffset(bytes, start, end);
        if (tooDeep >= 0) return malformed(`ndjson line ${line}: ${tooDeepDetail(tooDeep)}`);
        let value: unknown;
        try {
          value = JSON.parse(textOf(bytes, utf8, start, end));
        } catch {
          return malformed(`ndjson line ${line}: not JSON: ${describeJsonSyntaxError(bytes, start, end)}`);
        }
        if (!isPlainObject(value)) return malformed(`ndjson line ${line}: expected a JSON object, got ${describe(value)}`);
        const violation = this.contract?.check(value);
        if (violation) return schemaViolation(`ndjson line ${line}: ${violation.detail}`);
        records.push(value);
      }
      start = end + 1;
    }
    if (records.length === 0) return malformed('ndjson: the message has no JSON objects, only blank lines');
    // Once for the whole message, not per line: every line parsed, so each backslash is in a string.
    const surrogate = escapedLoneSurrogateOffset(bytes);
    if (surrogate >= 0) return malformed(`ndjson line ${lineOf(bytes, surrogate)}: ${loneSurrogateDetail(surrogate)}`);
    return accept(records);
  }
}

function isPlainObject(value: unknown): value is DecodedRecord {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function isBlank(bytes: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false;
  }
  return true;
}

function lineOf(bytes: Buffer, offset: number): number {
  let line = 1;
  for (let i = bytes.indexOf(NEWLINE); i >= 0 && i < offset; i = bytes.indexOf(NEWLINE, i + 1)) line++;
  return line;
}

const NEWLINE = 0x0a;
/** Printable ASCII but the quote and the backslash: text a JSON key holds as it is. */
const RAW_KEY = /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/;

/** `codec: json` in the codec registry (../index.ts). */
export const jsonCodec: CodecType<typeof jsonDecodeConfigSchema> = { codec: 'json', schema: jsonDecodeConfigSchema, create: createJsonDecoder };
