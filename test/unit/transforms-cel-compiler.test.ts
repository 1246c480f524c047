import { describe, expect, it } from 'vitest';
import { compileCel, FALLBACK } from '../../src/operators/transforms/cel-compiler.ts';
import { celEnvironment } from '../../src/operators/transforms/cel-environment.ts';
import { ConstantKeys } from '../../src/operators/transforms/constant-keys.ts';
import { bindExpression, compileExpression, interpretExpression } from '../../src/operators/transforms/expression.ts';
import { pipelines, samples } from '../support/shipped-samples.ts';

/*
 * The compiled path (cel-compiler.ts closures, cel-js for what they cannot decide) against cel-js
 * alone: every shipped expression on every shipped sample, and a conformance table of the cases
 * where the two could part (ints, nulls, missing keys, error absorption, odd values), must give
 * the same value or the same error.
 */

type Outcome = { value: unknown } | { error: { name: string; code: unknown; message: string } };

function outcome(evaluate: (record: Record<string, unknown>) => unknown, record: Record<string, unknown>): Outcome {
  try {
    return { value: evaluate(structuredClone(record)) };
  } catch (error) {
    const { name, code, message } = error as { name: string; code?: unknown; message: string };
    return { error: { name, code, message } };
  }
}

function expectSame(source: string, record: Record<string, unknown>, constants: Record<string, unknown> = {}): Outcome {
  const compiled = outcome(bindExpression(source, constants), record);
  const reference = outcome(interpretExpression(source, constants), record);
  expect(compiled, `${source} on ${JSON.stringify(record, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v))}`).toEqual(reference);
  return reference;
}

/** True when the closures alone decide the expression on `record` (no fallback to cel-js). */
function decidedByClosures(source: string, record: Record<string, unknown>, constants: Record<string, unknown> = {}): boolean {
  // As bindExpression reads them: constants as such (their lookups folded), the rest from the record.
  const variable = (name: string) =>
    Object.hasOwn(constants, name) ? { constant: constants[name] } : (r: Record<string, unknown>) => (Object.hasOwn(r, name) ? r[name] : undefined);
  const compiled = compileCel((celEnvironment.parse(source) as unknown as { ast: unknown }).ast, variable);
  return compiled !== undefined && compiled(structuredClone(record)) !== FALLBACK;
}

function shippedExpressions(config: (typeof pipelines)[number]['config']): string[] {
  const transforms = config.transforms.flatMap((t) => ('filter' in t ? [t.filter] : 'compute' in t ? Object.values(t.compute) : []));
  const filters = config.metrics.flatMap((m) => ('filter' in m && m.filter !== undefined ? [m.filter] : []));
  return [...transforms, ...filters];
}

describe('compiled CEL against cel-js', () => {
  it.each(pipelines)('$file: every expression on every sample', ({ file, config }) => {
    const expressions = shippedExpressions(config);
    for (const source of expressions) {
      for (const sample of samples[file]!) expectSame(source, sample, config.constants);
    }
  });

  it('the gateway pipeline is decided by the closures alone on its samples', () => {
    const { config } = pipelines.find((p) => p.file === 'bailian-gateway.yaml')!;
    for (const source of shippedExpressions(config)) {
      for (const sample of samples['bailian-gateway.yaml']!) {
        const record = { ...sample, tpot_seconds: 0.01, cost: 0.5 };
        expect(decidedByClosures(source, record, config.constants), source).toBe(true);
      }
    }
  });

  const record = {
    s: 'abc',
    t: 'abd',
    e: '',
    emoji: '\u{1F600}',
    high: '\uFFFF',
    d: 2.5,
    z: 0,
    n: null,
    b: true,
    f: false,
    big: 5n,
    list: [1, 2, 3],
    strings: ['a', 'b'],
    obj: { k: 'v', 'a.b': 1.5, nested: { deep: 'x' } },
    undef: { k: 'v', u: undefined },
    // cel-js types a map operand of `in` by its first member, deeply: an undefined one is unsupported_type.
    firstUndef: { u: undefined, k: 'v' },
    deepUndef: { a: { u: undefined }, b: 1.5 },
    listFirstUndef: { a: [undefined, 1.5] },
    map: { k: 'v' },
    empty: {},
    weird: { constructor: 'x' },
    nan: Number.NaN,
    inf: Number.POSITIVE_INFINITY,
  };

  const table = [
    // literals and arithmetic
    '1 + 2', '1.0 + 2.0', 'd + 1.0', 'd + 1', 'd * 2.0', 'd / 0.0', '-d / 0.0', 'z / 0.0', '1 / 0', 'd - d', 'big + 1', 'big * 2.0',
    's + t', 's + 1', 's - t', 'd % 2.0', '5 % 2', '-d', '-s', '-big', '9223372036854775807 + 1', 'nan + 1.0', 'inf - inf',
    // comparisons and equality
    'd < 3.0', 'd <= 2.5', 'd > 2', 'd >= big', 's < t', 's > t', 'emoji > high', 'high < emoji', 's < 1.0', 'nan < 1.0', 'nan == nan', 'nan != nan',
    'd == 2.5', 'd == 2', 'big == 5', 'big == 5.0', 's == "abc"', 's != "abc"', 'n == null', 'n != null', 's == null', 'null == s',
    'd == null', 'b == null', 'list == null', 'obj == null', 's == d', 'b == true', 'b != f', 'list == [1.0, 2.0, 3.0]', 'obj == obj',
    'missing == null', 'missing != null', 'e == ""',
    // a literal on the right (cel-compiler.ts's specialised closures), with every kind of left operand
    'n < 1.0', 'b >= 1.0', 'big >= 1.0', 'missing >= 1.0', 's > 1.0', 'list <= 1.0', 'nan >= 0.0', 'inf > 1.0', 'z <= -0.0', 'd > -1.0',
    'd - 1.0', 'big - 1.0', 'n * 2.0', 's / 2.0', 'missing / 2.0', 'obj - 1.0', 'd / 0.0', 'z * -1.0', 'b - 1.0',
    'b == 2.5', 'n == 2.5', 'big == 2.5', 'missing == 2.5', 'list == 2.5', 'z == -0.0', 'd != 2.5', 'n != 2.5', 's != 2.5',
    's == "x"', 'n == "x"', 'd == "x"', 'big == "x"', 'obj != "x"', 'missing != "x"', 'b == false', 'n == true', 's != true', 'f != false',
    'big != null', 'b != null', 'obj != null', 'list == null', 'd == null', 'missing == null',
    // logic and conditions
    'b && f', 'b || f', 'f && missing', 'missing && f', 'b || missing', 'missing || b', 'missing && b', 'missing || f', 'b && s', 's && b',
    'f || s', '!b', '!s', '!missing', 'b ? s : t', 'f ? s : t', 's ? 1.0 : 2.0', 'missing ? 1.0 : 2.0', 'b ? missing : 1.0', 'b ? 1 : 2',
    'n ? 1.0 : 2.0',
    // a negated literal is folded to a literal
    'b ? -1.0 : 0.0', 'f ? 1.0 : -1.0', 'd > -1.0', 'd - -1.0', '-2.5 * d', '-0.0 == 0.0', '-1 + 1', 'b ? -1 : 0', 's > -1.0', 'big > -1.0',
    // access and membership
    'obj.k', 'obj["k"]', 'obj["a.b"]', 'obj.nested.deep', 'obj.nope', 'obj["nope"]', 'obj.undef', 'obj[s]', 'obj[d]', 'list[0]', 'list[0.0]',
    'strings[1]', 's.k', 'n.k', 'weird.constructor', 'weird["x"]', 'empty.k', '"k" in obj', '"nope" in obj', '"undef" in obj', 's in obj',
    'd in obj', '"k" in empty', '1.0 in list', '1 in list', '"a" in strings', 's in s', '"constructor" in obj', '"toString" in obj',
    'obj.nested["deep"] == "x"', 'toString', 'constructor', 'hasOwnProperty',
    // found by the differential fuzz (transforms-cel-fuzz.test.ts): `in` a map cel-js cannot type
    '"k" in firstUndef', '"u" in firstUndef', 's in firstUndef', '"k" in firstUndef ? 1.0 : 2.0', '"b" in deepUndef', '"a" in listFirstUndef',
    'firstUndef.k', 'deepUndef.b', '"k" in undef',
    // names cel-js declares itself
    'map.k', 'map', 'int', 'string', 'list == null', 'obj.k.size()',
    // functions
    'string(s)', 'string(d)', 'string(big)', 'string(b)', 'string(n)', 'double(d)', 'double(big)', 'double("1.5")', 'double(s)', 'double(missing)',
    's.startsWith("ab")', 's.startsWith(1.0)', 's.startsWith(t)', 'n.startsWith("a")', 'missing.contains("a")', 'n != null && n.startsWith("a")', 'd.startsWith("a")', 's.endsWith("bc")', 's.contains("b")', 'e.contains("")', 'size(s)',
    'size(emoji)', 's.matches("^a")', 'has(obj.k)', 'has(obj.nope)', 'list.all(x, x > 0)', 'list.map(x, x * 2)', 'strings.exists(x, x == "b")',
    'int(d)', 'dyn(s)', 's.size()', '[s, t]', '{"a": d}', 'type(s) == string', 's.toString()', 's.constructor("x")',
  ];

  it.each(table)('%s', (source) => {
    expectSame(source, record);
  });

  it('shadowing constants read like cel-js reads them', () => {
    const constants = { prices: { m: { input: 0.5 } }, s: 'constant' };
    for (const source of ['prices[s].input', 'model in prices ? prices[model].input : 0.0', 's + "!"', 'prices.m.input * d', 'prices.nope.input']) {
      expectSame(source, { model: 'm', s: 'record', d: 2 }, constants);
      expectSame(source, { model: 'x', d: 2 }, constants);
    }
  });

  it('lookups into constants, folded at compile time, give what cel-js gives for every kind of key and member', () => {
    const constants = {
      prices: { m: { input: 0.5, tiers: [1, 2], odd: undefined, none: null }, n: null, u: undefined, num: 3, list: [1], ['__proto__']: { input: 9 }, 'a.b': { input: 2 } },
      flat: { a: 'x', n: null },
    };
    const sources = [
      'model in prices',
      'model in flat',
      'prices[model]',
      'prices[model].input',
      'prices[model].tiers',
      'prices[model].odd',
      'prices[model].none',
      'prices[model].input * d',
      'flat[model]',
      'flat[model] == null',
      'prices.m.input',
      'prices["a.b"].input',
      'prices.m.none',
      'prices.num',
      'prices.nope',
    ];
    const keys: unknown[] = ['m', 'n', 'u', 'num', 'list', 'nope', '__proto__', 'a.b', 'constructor', 'toString', 'a', 1.5, null, true];
    for (const source of sources) for (const model of keys) expectSame(source, { model, d: 2 }, constants);
    expect(decidedByClosures('prices[model].input * d', { model: 'm', d: 2 }, constants)).toBe(true);
  });

  it('numbers a constant\'s keys right whichever key came before (the last one is remembered)', () => {
    const keys = new ConstantKeys({ a: 1, bb: 2, __proto__: null });
    const asked = ['a', 'a', 'bb', 'nope', 'nope', 'a', ['b', 'b'].join(''), 'bb', 'c', 'a'];
    expect(asked.map((key) => keys.numberOf(key))).toEqual([0, 0, 1, -1, -1, 0, 1, 1, -1, 0]);
  });

  it('lookups into two constants and two keys in one expression each find their own', () => {
    const constants = { prices: { m: { input: 0.5 }, x: { input: 2 } }, flat: { m: 'fm', y: 'fy' } };
    const source = 'model in prices ? prices[model].input : (other in flat ? flat[other] : prices[other].input)';
    for (const [model, other] of [['m', 'y'], ['x', 'm'], ['z', 'y'], ['z', 'x'], ['m', 'm'], ['z', 'z']]) {
      expectSame(source, { model, other }, constants);
    }
  });

  it('`in` a constant cel-js cannot type (its first member undefined) fails as in cel-js', () => {
    const constants = { p: { u: undefined, k: 1.5 }, q: { a: { u: undefined } } };
    for (const source of ['"k" in p', 'model in p', 'model in q', 'model in p ? 1.0 : 2.0']) {
      const reference = expectSame(source, { model: 'k' }, constants);
      expect(reference, source).toMatchObject({ error: { code: 'unsupported_type' } });
    }
  });

  it('a constant shadows the record field of the same name in folded lookups too', () => {
    for (const record of [{}, { prices: 'shadowed' }, { model: 'm' }]) {
      expectSame('prices[model].input', record, { prices: { m: { input: 1.5 } } });
    }
  });

  it('an expression that does not type-check fails the same way on every record', () => {
    for (const source of ['b ? "a" : 1.0', 'b ? [1] : "x"']) {
      const reference = expectSame(source, record);
      expect('error' in reference).toBe(true);
    }
  });

  it('compileExpression (metric filters: the record is the context) agrees with cel-js too', () => {
    for (const source of ['s == "abc" && d > 1.0', 'missing == null', 'toString == null', 'obj.k.startsWith("v")', 'map.k', 'undef.k', 'undef.u']) {
      expect(outcome(compileExpression(source), record), source).toEqual(outcome(interpretExpression(source), record));
    }
  });
});
