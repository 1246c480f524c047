import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AvroContract } from '../../../src/codecs/avro/contract.ts';
import { readSchemaFile } from '../../../src/codecs/avro/schema-file.ts';
import { EMPTY_CONTEXT, type DecodedRecord, type DecodeOutcome } from '../../../src/codecs/decoder.ts';
import { createJsonDecoder } from '../../../src/codecs/json/index.ts';
import { FlatJsonScanner, REST_MESSAGES, SCAN_WINDOW } from '../../../src/codecs/json/flat-scanner.ts';
import { loadPipelineFile } from '../../../src/config/load.ts';
import { fieldsThePipelineReads } from '../../../src/config/read-fields.ts';
import { generateGatewayLogs } from '../../support/gateway-traffic.ts';
import { seededRandom } from '../../support/seeded-random.ts';
import { suiteFiles } from './support/json-test-suite-files.ts';

/**
 * The flat scanner (src/codecs/json/flat-scanner.ts) decides nothing: a decoder given the fields
 * the pipeline reads must give exactly the full decoder's verdict on every message, and on every
 * accepted one the full decoder's record restricted to those fields (same keys, same values,
 * -0 included). Held to that here against JSONTestSuite, the gateway contract and seeded hostile
 * mutations of gateway logs; and the scanner itself must read the messages it is for, or it would
 * save nothing while passing the rest.
 */

const SCHEMA = '../schemas/bailian-gateway-log.avsc';
const gatewayPipeline = await loadPipelineFile('pipelines/bailian-gateway.yaml');
const GATEWAY_READS = fieldsThePipelineReads(gatewayPipeline.config)!;
const gatewayContract = new AvroContract(readSchemaFile('pipelines', SCHEMA, ['schema']), SCHEMA);

const logs = [...generateGatewayLogs({ seed: 7, tenants: ['acme', 'globex'], startMs: 1_796_083_200_000, spanMs: 600_000, count: 400 })].map((log) =>
  Buffer.from(JSON.stringify(log)),
);

function decoders(readFields: readonly string[], schema?: string) {
  const config = { codec: 'json' as const, framing: 'object' as const, ...(schema === undefined ? {} : { schema }) };
  return { full: createJsonDecoder(config, { baseDir: 'pipelines' }), scanning: createJsonDecoder(config, { baseDir: 'pipelines', readFields }) };
}

/** The record's own fields among `fields` (defined, not assigned: `__proto__` stays a field). */
function restricted(record: DecodedRecord, fields: readonly string[]): DecodedRecord {
  const out: DecodedRecord = {};
  for (const field of fields) if (Object.hasOwn(record, field)) Object.defineProperty(out, field, { value: record[field], enumerable: true });
  return out;
}

/**
 * The scanning decoder's outcome is the full one's, its records compared on the fields read (a
 * message the scanner hands back comes whole from the full path); a mismatch as text, or undefined.
 */
function mismatch(full: DecodeOutcome, scanning: DecodeOutcome, fields: readonly string[]): string | undefined {
  if (!full.ok || !scanning.ok) {
    return isDeepStrictEqual(full, scanning) ? undefined : `full ${JSON.stringify(full)} against ${JSON.stringify(scanning)}`;
  }
  const expected = full.records.map((record) => restricted(record, fields));
  const got = scanning.records.map((record) => restricted(record, fields));
  const sameKeys = got.every((record, r) => isDeepStrictEqual(Object.keys(record).sort(), Object.keys(expected[r]!).sort()));
  const sameValues = got.every((record, r) => Object.keys(record).every((key) => Object.is(record[key], expected[r]![key]) || isDeepStrictEqual(record[key], expected[r]![key])));
  return sameKeys && sameValues && got.length === expected.length ? undefined : `records ${JSON.stringify(expected)} against ${JSON.stringify(got)}`;
}

function expectSameOutcomes(messages: readonly Buffer[], readFields: readonly string[], schema?: string): void {
  const { full, scanning } = decoders(readFields, schema);
  const problems: string[] = [];
  for (const bytes of messages) {
    const problem = mismatch(full.decode(bytes, EMPTY_CONTEXT), scanning.decode(bytes, EMPTY_CONTEXT), readFields);
    if (problem !== undefined && problems.length < 5) problems.push(`${JSON.stringify(bytes.toString('latin1')).slice(0, 300)}: ${problem}`);
  }
  expect(problems).toEqual([]);
}

describe('a decoder given the fields read: the full decoder’s verdicts and records', () => {
  it('on every JSONTestSuite file, as the message and as a field of one (read and skipped)', () => {
    const messages = suiteFiles.flatMap(({ bytes }) => [
      bytes,
      Buffer.concat([Buffer.from('{"v":'), bytes, Buffer.from('}')]),
      Buffer.concat([Buffer.from('{"a": 1, "v" :'), bytes, Buffer.from(' , "b":"x"}')]),
    ]);
    expectSameOutcomes(messages, ['v', 'b']);
    expectSameOutcomes(messages, ['a']);
    expectSameOutcomes(messages, []);
  });

  it('on gateway logs under the gateway contract, and the scanner reads them all', () => {
    expectSameOutcomes(logs, GATEWAY_READS, SCHEMA);
    const scanner = new FlatJsonScanner(GATEWAY_READS, gatewayContract.fieldChecks);
    const unread = logs.filter((bytes) => scanner.scan(bytes) === undefined);
    expect(unread).toEqual([]);
    const outcome = decoders(GATEWAY_READS, SCHEMA).scanning.decode(logs[0]!, EMPTY_CONTEXT);
    expect(outcome.ok && outcome.records[0]).not.toHaveProperty('user_agent'); // the decoder scanned it
    expect(outcome.ok && Object.getPrototypeOf(outcome.records[0])).toBe(Object.prototype); // a plain object, as JSON.parse's
    expect(GATEWAY_READS).toEqual(expect.arrayContaining(['timestamp', 'tenant_id', 'model', 'latency_ms', 'ttft_ms', 'stream', 'app_id']));
  });

  it('on contract edges: missing fields with and without defaults, wrong types, int range, repeated keys', () => {
    const base = JSON.parse(logs[0]!.toString()) as Record<string, unknown>;
    const variant = (change: (log: Record<string, unknown>) => void, text?: (json: string) => string) => {
      const log = { ...base };
      change(log);
      const json = JSON.stringify(log);
      return Buffer.from(text === undefined ? json : text(json));
    };
    const messages = [
      variant((log) => delete log.cached_tokens), // has a default: accepted, absent
      variant((log) => delete log.region), // required, not read: refused
      variant((log) => delete log.model), // required and read
      variant((log) => (log.http_status = 2 ** 31)), // int overflow
      variant((log) => (log.http_status = 200.5)),
      variant((log) => (log.timestamp = 2 ** 53)), // beyond avsc's safe long
      variant((log) => (log.user_agent = 7)), // a union of null and string, not read
      variant((log) => (log.request_id = null)), // string, not read
      variant((log) => (log.stream = 'true')),
      variant((log) => (log.error_code = 'a "quoted" \\ code\n')), // escapes in a read string
      variant((log) => (log.user_agent = 'tab\there')), // escapes in a skipped string
      variant((log) => (log.user_agent = 'é')), // not ASCII: the full path
      variant((log) => (log.trace_id = '\ud800')), // a lone surrogate, escaped by JSON.stringify
      variant(() => {}, (json) => json.replace('"model":', '"model":"x","model":')), // repeated, last valid
      variant(() => {}, (json) => json.replace('"model":', '"model":7,"model":')), // repeated, first invalid
      variant(() => {}, (json) => json.replace('"region":', '"region":7,"region":')),
      variant(() => {}, (json) => json.replace('{', '{"__proto__":{"a":1},"extra":[1,{"b":2}],')), // unknown nested fields
      variant(() => {}, (json) => ` \n\t${json.replaceAll(',', ' ,\r\n ').replaceAll(':', ' : ')} \n`),
    ];
    expectSameOutcomes(messages, GATEWAY_READS, SCHEMA);
    const scanner = new FlatJsonScanner(GATEWAY_READS, gatewayContract.fieldChecks);
    expect(scanner.scan(messages[0]!)).not.toHaveProperty('cached_tokens');
    expect(scanner.scan(messages[9]!)).toMatchObject({ error_code: 'a "quoted" \\ code\n' });
    expect(scanner.scan(messages[17]!)).toEqual(restricted(JSON.parse(messages[17]!.toString()) as DecodedRecord, GATEWAY_READS));
  });

  it('on 20,000 seeded hostile mutations of gateway logs', () => {
    const random = seededRandom(12);
    const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const SIGNIFICANT = ['"', '\\', '{', '}', '[', ']', ',', ':', '-', '+', '.', 'e', 'E', '0', '1', '9', ' ', '\t', '\n', '\r', 't', 'f', 'n', 'u', '\u0000', '\u001f', '\u007f'];
    const NUMBERS = ['-0', '0.1', '1e3', '1E-7', '-1.5e+2', '0.30000000000000004', '123456789012345', '1234567890123456789', '01', '1.', '.5', '-', '1e', '9007199254740993', '2147483648', '-2147483648', '1.7976931348623157e308', '5e-324', '1e400'];
    const ESCAPES = ['\\"', '\\\\', '\\/', '\\b', '\\f', '\\n', '\\r', '\\t', '\\u00e9', '\\ud800', '\\x', '\\'];
    const messages: Buffer[] = [];
    for (let c = 0; c < 20_000; c++) {
      let text = pick(logs).toString('latin1');
      const at = Math.floor(random() * text.length);
      const mutation = Math.floor(random() * 7);
      if (mutation === 0) text = text.slice(0, at) + pick(SIGNIFICANT) + text.slice(at + 1);
      else if (mutation === 1) text = text.slice(0, at) + pick(SIGNIFICANT) + text.slice(at);
      else if (mutation === 2) text = text.slice(0, at) + text.slice(at + 1);
      else if (mutation === 3) text = text.slice(0, at);
      else if (mutation === 4) text = text.replace(/(":)(-?[0-9.]+)/g, (whole, colon: string) => (random() < 0.3 ? colon + pick(NUMBERS) : whole));
      else if (mutation === 5) text = text.replace(/"([a-z_]+)":"/, (_, key: string) => `"${key}":"${pick(ESCAPES)}`);
      else text = text.replace(/,"[a-z_]+":(null|true|false|"[^"]*"|[-0-9.]+)/, random() < 0.5 ? '' : '$&$&');
      messages.push(Buffer.from(text, 'latin1'));
    }
    expectSameOutcomes(messages, GATEWAY_READS, SCHEMA);
    expectSameOutcomes(messages, GATEWAY_READS);
  });

  it('reads numbers as JSON.parse does, to the last bit', () => {
    const random = seededRandom(3);
    const numbers = ['0', '-0', '-0.0', '0.1', '0.2', '0.3', '850.487', '1.7976931348623157e308', '5e-324', '123456789012345', '999999999999999.9', '0.000001', '100000000000000000000000', '4.35', '-1.005'];
    for (let i = 0; i < 5_000; i++) {
      const digits = String(Math.floor(random() * 1e15));
      const point = Math.floor(random() * digits.length);
      numbers.push(`${random() < 0.5 ? '-' : ''}${digits.slice(0, point) || '0'}.${digits.slice(point) || '0'}`);
    }
    const scanner = new FlatJsonScanner(['n'], undefined);
    const wrong = numbers.filter((n) => !Object.is(scanner.scan(Buffer.from(`{"n":${n}}`))?.n, JSON.parse(n)));
    expect(wrong).toEqual([]);
  });

  it('rests after a window of scans that mostly missed, then scans again; records stay exact throughout', () => {
    const nested = Buffer.from('{"a":{"b":1},"c":2}');
    const flat = Buffer.from('{"a":1,"c":2}');
    const scanner = new FlatJsonScanner(['a', 'c'], undefined);
    const scans = (bytes: Buffer, count: number) => Array.from({ length: count }, () => scanner.scan(bytes) !== undefined).filter(Boolean).length;
    expect(scans(flat, SCAN_WINDOW - SCAN_WINDOW / 8)).toBe(SCAN_WINDOW - SCAN_WINDOW / 8);
    expect(scans(nested, SCAN_WINDOW / 8)).toBe(0); // one in eight missed: not more, no rest
    expect(scans(flat, 1)).toBe(1);
    expect(scans(nested, SCAN_WINDOW - 1)).toBe(0); // the window mostly missed
    expect(scans(flat, REST_MESSAGES)).toBe(0); // resting: handed back unscanned
    expect(scans(flat, 1)).toBe(1);
    const { full, scanning } = decoders(['a', 'c']);
    for (const bytes of Array.from({ length: 2 * SCAN_WINDOW }, (_, i) => (i % 3 === 0 ? flat : nested))) {
      expect(mismatch(full.decode(bytes, EMPTY_CONTEXT), scanning.decode(bytes, EMPTY_CONTEXT), ['a', 'c'])).toBeUndefined();
    }
  });

  it('leaves no value of a message in the next one, whether its scan missed, was refused or threw', () => {
    // A field's check that throws on one value stands for any exception inside a scan.
    const test = (value: unknown): boolean => {
      if (value === 'throw') throw new Error('check threw');
      return value !== 'refuse';
    };
    const scanner = new FlatJsonScanner(['a', 'b'], [{ name: 'b', required: false, anyString: false, test }]);
    const scan = (text: string) => scanner.scan(Buffer.from(text));
    expect(scan('{"a":1,"b":"ok"}')).toEqual({ a: 1, b: 'ok' });
    expect(scan('{"a":2,"b":[]}')).toBeUndefined(); // stopped part-way: a nested value
    expect(scan('{"b":"ok"}')).toEqual({ b: 'ok' });
    expect(scan('{"a":3,"b":"refuse"}')).toBeUndefined(); // refused by the check
    expect(scan('{"b":"ok"}')).toEqual({ b: 'ok' });
    expect(() => scan('{"a":4,"b":"throw"}')).toThrow('check threw');
    expect(scan('{"b":"ok"}')).toEqual({ b: 'ok' });
  });

  it('keeps a field named __proto__ an own property: no scanner then', () => {
    // A flat message, which a scanner would read: its store of `__proto__` would set no property.
    const bytes = Buffer.from('{"__proto__":"p","x":2}');
    const { full, scanning } = decoders(['__proto__', 'x']);
    const outcome = scanning.decode(bytes, EMPTY_CONTEXT);
    expect(mismatch(full.decode(bytes, EMPTY_CONTEXT), outcome, ['__proto__', 'x'])).toBeUndefined();
    expect(outcome.ok && Object.getPrototypeOf(outcome.records[0])).toBe(Object.prototype);
    expect(outcome.ok && Object.hasOwn(outcome.records[0]!, '__proto__')).toBe(true);
  });
});
