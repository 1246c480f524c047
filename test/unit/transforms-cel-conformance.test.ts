import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileCel, FALLBACK } from '../../src/operators/transforms/cel-compiler.ts';
import { celEnvironment } from '../../src/operators/transforms/cel-environment.ts';
import { bindExpression, compileExpression, expressionProblem, interpretExpression, type CompiledExpression } from '../../src/operators/transforms/expression.ts';

/*
 * The CEL specification's own conformance tables (test/fixtures/cel/conformance.json, converted
 * from the cel.dev/expr module's tests/simple/testdata by test/fixtures/cel/convert), run through
 * Sluice's expressions: the compiled path (compileExpression with the bindings as the record,
 * bindExpression with them as pipeline constants) and cel-js alone (interpretExpression).
 *
 * - Every case Sluice's CEL can express runs; the rest are skipped by a named reason, and the
 *   count of each reason is asserted, so the skip list cannot grow unnoticed.
 * - cel-js must give the table's value or error, but for the cases test/fixtures/cel/cel-js-deviations.json
 *   lists: there cel-js, Sluice's reference, parts from the specification, for the reason given.
 *   A case cel-js gets right must not be listed, so the list shrinks when cel-js is fixed.
 * - The compiled path must give exactly what cel-js gives (same value, same error code), on
 *   every case run, deviation or not. On the deviations its closures decide nothing (they fall
 *   back to cel-js): none lies where the compiled path could part from cel-js on its own.
 */

interface SpecValue {
  readonly int64_value?: string;
  readonly uint64_value?: string;
  readonly double_value?: number | string;
  readonly string_value?: string;
  readonly bytes_value?: string;
  readonly bool_value?: boolean;
  readonly null_value?: string;
  readonly list_value?: { readonly values?: readonly SpecValue[] };
  readonly map_value?: { readonly entries?: readonly { readonly key: SpecValue; readonly value: SpecValue }[] };
  readonly type_value?: string;
}

interface ConformanceCase {
  readonly file: string;
  readonly section: string;
  readonly name: string;
  readonly expr: string;
  readonly disable_macros?: boolean;
  readonly disable_check?: boolean;
  readonly check_only?: boolean;
  readonly container?: string;
  readonly bindings?: Readonly<Record<string, { readonly value?: SpecValue }>>;
  readonly expect: {
    readonly value?: SpecValue;
    readonly typed_result?: { readonly result?: SpecValue };
    readonly eval_error?: unknown;
    readonly any_eval_errors?: unknown;
    readonly unknown?: unknown;
    readonly any_unknowns?: unknown;
  };
}

const table = JSON.parse(readFileSync(new URL('../fixtures/cel/conformance.json', import.meta.url), 'utf8')) as {
  readonly sources: { readonly 'cel-spec': { readonly module: string; readonly version: string; readonly license: string; readonly files: readonly string[] } };
  readonly cases: readonly ConformanceCase[];
};

const idOf = (c: ConformanceCase) => `${c.file}/${c.section}/${c.name}`;

// ---- values: the table's cel.expr.Value (protobuf JSON) as cel-js holds them ----

const UnsignedInt = (celEnvironment.parse('0u')({}) as object).constructor as new (value: bigint) => { readonly value: bigint };
const DOUBLES: Readonly<Record<string, number>> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };

function decode(value: SpecValue): unknown {
  if (value.int64_value !== undefined) return BigInt(value.int64_value);
  if (value.uint64_value !== undefined) return new UnsignedInt(BigInt(value.uint64_value));
  if (value.double_value !== undefined) return typeof value.double_value === 'string' ? DOUBLES[value.double_value] : value.double_value;
  if (value.string_value !== undefined) return value.string_value;
  if (value.bytes_value !== undefined) return new Uint8Array(Buffer.from(value.bytes_value, 'base64'));
  if (value.bool_value !== undefined) return value.bool_value;
  if (value.null_value !== undefined) return null;
  if (value.list_value !== undefined) return (value.list_value.values ?? []).map(decode);
  if (value.map_value !== undefined) {
    const entries = (value.map_value.entries ?? []).map(({ key, value: v }) => [decode(key), decode(v)] as const);
    // cel-js holds a map of string keys as a plain object; other keys need a Map.
    return entries.every(([key]) => typeof key === 'string') ? Object.fromEntries(entries) : new Map(entries);
  }
  if (value.type_value !== undefined) return new SpecType(value.type_value);
  throw new Error(`no decoding for ${JSON.stringify(value)}`);
}

/** A type value of the table (`type(1) == int`), by the specification's name. */
class SpecType {
  constructor(readonly name: string) {}
}

const CelType = (celEnvironment.parse('type(1)')({}) as object).constructor as new (name: string) => { readonly name: string };
/** cel-js's names for types the specification names otherwise. */
const TYPE_NAMES: Readonly<Record<string, string>> = { null: 'null_type' };

/** The table's equality: exact CEL types, maps order-agnostic, any NaN matches NaN. */
function sameValue(expected: unknown, actual: unknown): boolean {
  if (typeof expected === 'number') return typeof actual === 'number' && (expected === actual || (Number.isNaN(expected) && Number.isNaN(actual)));
  if (expected === null || typeof expected !== 'object') return expected === actual;
  if (expected instanceof SpecType) return actual instanceof CelType && (TYPE_NAMES[actual.name] ?? actual.name) === expected.name;
  if (expected instanceof UnsignedInt) return actual instanceof UnsignedInt && expected.value === actual.value;
  if (expected instanceof Uint8Array) return actual instanceof Uint8Array && Buffer.from(expected).equals(Buffer.from(actual));
  if (Array.isArray(expected)) return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => sameValue(e, actual[i]));
  if (expected instanceof CelType) return actual instanceof CelType && expected.name === actual.name;
  if (expected instanceof Date) return actual instanceof Date && Object.is(expected.getTime(), actual.getTime());
  // cel-js's durations and other values of its own: the same class, the same text.
  if (mapEntries(expected) === undefined) return actual !== null && typeof actual === 'object' && actual.constructor === expected.constructor && String(actual) === String(expected);
  const left = mapEntries(expected);
  const right = mapEntries(actual);
  if (left === undefined || right === undefined || left.length !== right.length) return false;
  return left.every(([key, value]) => right.some(([k, v]) => sameValue(key, k) && sameValue(value, v)));
}

function mapEntries(value: unknown): (readonly [unknown, unknown])[] | undefined {
  if (value instanceof Map) return [...value.entries()];
  if (value !== null && typeof value === 'object' && (value.constructor === Object || value.constructor === undefined)) return Object.entries(value);
  return undefined;
}

// ---- running a case ----

type Outcome = { readonly value: unknown } | { readonly error: string };

function outcome(evaluate: () => CompiledExpression, context: Record<string, unknown>): Outcome {
  try {
    return { value: evaluate()(context) };
  } catch (error) {
    return { error: String((error as { code?: unknown }).code ?? (error as Error).name) };
  }
}

/** What the specification expects: a value, or an error (any error: the tables' messages are cel-go's). */
function specified(c: ConformanceCase): { readonly value: unknown } | { readonly error: true } {
  if (c.expect.eval_error !== undefined || c.expect.any_eval_errors !== undefined) return { error: true };
  const value = c.expect.value ?? c.expect.typed_result?.result;
  return { value: value === undefined ? true : decode(value) };
}

function agreesWithSpec(c: ConformanceCase, got: Outcome): boolean {
  const want = specified(c);
  if ('error' in want) return 'error' in got;
  return 'value' in got && sameValue(want.value, got.value);
}

/** The same value (the table's equality) or the same error code. */
function sameOutcome(a: Outcome, b: Outcome): boolean {
  if ('error' in a || 'error' in b) return 'error' in a && 'error' in b && a.error === b.error;
  return sameValue(a.value, b.value);
}

// ---- what is skipped, and why ----

/** Names of protobuf message and enum types of the tables (and of the well-known types). */
const PROTO_NAMES = /\b(TestAllTypes|NestedTestAllTypes|NestedMessage|NestedEnum|GlobalEnum|TestRequired|google\.protobuf|cel\.expr\.conformance|proto[23]\.|protobuf_(?:unittest|test_messages))/;

function skipReason(c: ConformanceCase): string | undefined {
  if (c.check_only || (c.expect.typed_result !== undefined && c.expect.typed_result.result === undefined)) return 'type checker only';
  if (c.expect.unknown !== undefined || c.expect.any_unknowns !== undefined) return 'unknown sets (partial evaluation)';
  if (c.disable_macros) return 'macros turned off';
  if (c.file === 'optionals') return 'optional types (not enabled in Sluice)';
  const text = JSON.stringify(c);
  if (/"(object_value|enum_value)"/.test(text) || PROTO_NAMES.test(c.expr)) return 'protobuf messages and enums';
  if (c.container) return 'containers (qualified name resolution)';
  if (Object.values(c.bindings ?? {}).some((binding) => binding.value === undefined)) return 'error or unknown bindings';
  return undefined;
}

// ---- the cases ----

const deviations = JSON.parse(readFileSync(new URL('../fixtures/cel/cel-js-deviations.json', import.meta.url), 'utf8')) as {
  readonly deviations: readonly { readonly reason: string; readonly cases: readonly string[] }[];
};
const deviationOf = new Map(deviations.deviations.flatMap(({ reason, cases }) => cases.map((id) => [id, reason] as const)));

const runs = table.cases.filter((c) => skipReason(c) === undefined);
const files = [...new Set(table.cases.map((c) => c.file))];

/** The case's bindings as cel-js values, new for each run (an evaluation must not see another's). */
function bindingsOf(c: ConformanceCase): Record<string, unknown> {
  return Object.fromEntries(Object.entries(c.bindings ?? {}).map(([name, binding]) => [name, decode(binding.value!)]));
}

function show(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof UnsignedInt ? `${v.value}u` : v instanceof CelType ? `type ${v.name}` : v));
}

describe('the CEL specification\'s conformance tables', () => {
  it('come from a named module version, Apache-2.0', () => {
    const source = table.sources['cel-spec'];
    expect([source.module, source.version, source.license]).toEqual(['cel.dev/expr', 'v0.26.0', 'Apache-2.0']);
    // unknowns.textproto has no tests yet.
    expect(source.files).toEqual(expect.arrayContaining(files.map((file) => `${file}.textproto`)));
  });

  it('run every case Sluice\'s CEL can express; the others are skipped for these reasons, no more', () => {
    const skipped: Record<string, number> = {};
    for (const c of table.cases) {
      const reason = skipReason(c);
      if (reason !== undefined) skipped[reason] = (skipped[reason] ?? 0) + 1;
    }
    expect(skipped).toEqual({
      'protobuf messages and enums': 620,
      'optional types (not enabled in Sluice)': 100,
      'type checker only': 34,
      'containers (qualified name resolution)': 25,
    });
    expect([runs.length, table.cases.length]).toEqual([1277, 2056]);
  });

  it('list as deviations of cel-js only cases that run, each once', () => {
    const listed = deviations.deviations.flatMap(({ cases }) => cases);
    const run = new Set(runs.map(idOf));
    expect(listed.filter((id) => !run.has(id))).toEqual([]);
    expect(listed.length).toBe(deviationOf.size);
  });

  it.each(files)('%s: cel-js gives the table\'s value or error, but for the listed deviations', (file) => {
    const parted: string[] = [];
    for (const c of runs.filter((r) => r.file === file)) {
      const got = outcome(() => interpretExpression(c.expr), bindingsOf(c));
      if (agreesWithSpec(c, got) === deviationOf.has(idOf(c))) {
        parted.push(`${idOf(c)}: ${c.expr} gave ${show(got)}, the table ${show(specified(c))}${deviationOf.has(idOf(c)) ? ' (listed as a deviation)' : ''}`);
      }
    }
    expect(parted).toEqual([]);
  });

  it.each(files)('%s: the compiled path gives what cel-js gives, with the bindings as the record and as constants', (file) => {
    const parted: string[] = [];
    for (const c of runs.filter((r) => r.file === file)) {
      const reference = outcome(() => interpretExpression(c.expr), bindingsOf(c));
      const asRecord = outcome(() => compileExpression(c.expr), bindingsOf(c));
      const asConstants = outcome(() => bindExpression(c.expr, bindingsOf(c)), {});
      for (const [path, got] of [['record', asRecord], ['constants', asConstants]] as const) {
        if (!sameOutcome(reference, got)) parted.push(`${idOf(c)} (${path}): ${c.expr} gave ${show(got)}, cel-js ${show(reference)}`);
      }
    }
    expect(parted).toEqual([]);
  });

  it('are decided by the compiled closures themselves, without cel-js, in a good part', () => {
    expect(runs.filter(decidedByClosures).length).toBeGreaterThanOrEqual(286);
  });

  it('where cel-js parts from the specification, the closures decide nothing: the compiled path answers as cel-js by falling back', () => {
    expect(runs.filter((c) => deviationOf.has(idOf(c)) && decidedByClosures(c)).map(idOf)).toEqual([]);
  });
});

/** True when the closures alone decide the case, as compileExpression builds them: expressions that type-check, record fields as variables. */
function decidedByClosures(c: ConformanceCase): boolean {
  if (expressionProblem(c.expr) !== undefined) return false;
  const ast = (celEnvironment.parse(c.expr) as unknown as { ast: unknown }).ast;
  const closure = compileCel(ast, (name) => (celEnvironment.hasVariable(name) ? undefined : { field: name }));
  return closure !== undefined && closure(bindingsOf(c)) !== FALLBACK;
}
