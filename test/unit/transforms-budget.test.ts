import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from '@marcbachmann/cel-js';
import { describe, expect, it } from 'vitest';
import { EMPTY_CONTEXT } from '../../src/codecs/decoder.ts';
import { parsePipeline } from '../../src/config/load.ts';
import { compileExpression } from '../../src/operators/transforms/expression.ts';
import { compileTransforms, type TransformConfig } from '../../src/operators/transforms/index.ts';
import { compileRelabel, relabelRuleSchema } from '../../src/operators/transforms/relabel.ts';
import { Ingest, IngestedBatch } from '../../src/runtime/ingest.ts';
import { configProblems } from '../support/config-problems.ts';

/*
 * The hostile inputs of issue 8: each took a backtracking engine or an unmetered evaluator from
 * hundreds of milliseconds to seconds, doubling per character. Inputs here are sized so that a
 * backtracking engine would need more than 2^40 steps: finishing within the test's timeout at
 * all shows the work is linear (or cut off by the budget). Verdicts are asserted exactly; no
 * timing is asserted.
 */

/** A cost bound only, so the verdict does not depend on the machine's speed. */
const costOnly = { max_cost: 100_000, max_time: 600_000 };

const numbers = (n: number) => Array.from({ length: n }, (_, i) => i * 1.0);

function transform(config: TransformConfig, budget = costOnly) {
  return compileTransforms([config], {}, budget)!;
}

describe('regular expressions run on RE2 (linear time)', () => {
  it('relabel (a+)+b on long values answers at once', () => {
    const relabel = compileRelabel([relabelRuleSchema.parse({ action: 'keep', source_labels: ['x'], regex: '(a+)+b' })]);
    for (const n of [27, 64, 100_000]) {
      expect(relabel({ name: 'm', labels: { x: 'a'.repeat(n) } })).toBe(false);
      expect(relabel({ name: 'm', labels: { x: `${'a'.repeat(n)}b` } })).toBe(true);
    }
  });

  it('CEL matches with (a+)+b on long strings answers at once, unanchored as CEL specifies', () => {
    const run = transform({ filter: 's.matches("(a+)+b")' });
    expect(run({ s: 'a'.repeat(28) })).toBe('drop');
    expect(run({ s: 'a'.repeat(5_000) })).toBe('drop');
    expect(run({ s: `x${'a'.repeat(5_000)}bx` })).toBe('keep');
    expect(transform({ filter: '"abc".matches("^b")' })({})).toBe('drop');
    expect(transform({ filter: '"abc".matches("b")' })({})).toBe('keep');
  });

  it('charges a regex scan by its input before running it', () => {
    const run = transform({ filter: 's.matches("(a+)+b")' });
    expect(run({ s: 'a'.repeat(200_000) })).toEqual({ reason: 'budget_exceeded', detail: 'transforms[0].filter: over expression_budget.max_cost' });
  });

  it('compiles a pattern that arrives in the record, and refuses a bad one without quoting it', () => {
    const run = transform({ filter: 's.matches(p)' });
    expect(run({ s: 'team-a', p: '^team-' })).toBe('keep');
    expect(run({ s: 'team-a', p: '(a+)+b' })).toBe('drop');
    expect(run({ s: 'team-a', p: '(?=SECRET' })).toEqual({ reason: 'invalid_value', detail: 'transforms[0].filter: invalid regular expression: p' });
  });
});

describe('CEL evaluation has a cost limit', () => {
  it('dead-letters a nested all() over 300 elements as budget_exceeded', () => {
    const run = transform({ filter: 'l.all(x, l.all(y, x + y >= 0.0))' });
    expect(run({ l: numbers(300) })).toEqual({ reason: 'budget_exceeded', detail: 'transforms[0].filter: over expression_budget.max_cost' });
    // The same expression within budget gives its value.
    expect(run({ l: numbers(30) })).toBe('keep');
  });

  it('stops nested comprehensions whose steps absorb errors (exists, all) and deeper nests', () => {
    for (const filter of ['l.exists(x, l.exists(y, x + y < 0.0))', 'l.all(x, l.all(y, l.all(z, x + y + z >= 0.0)))', 'l.map(x, l.filter(y, y > x)).size() > 0']) {
      expect(transform({ filter })({ l: numbers(2_000) })).toMatchObject({ reason: 'budget_exceeded' });
    }
  });

  it('shares one budget across the transforms of a record, and starts afresh for the next', () => {
    const run = compileTransforms(
      [{ filter: 'l.all(x, x >= 0.0)' }, { compute: { a: 'l.filter(x, x > 1.0).size()', b: 'l.map(x, x * 2.0).size()' } }],
      {},
      { max_cost: 2_500, max_time: 600_000 },
    )!;
    // Each comprehension over 300 elements costs ~900-1,200 units: three of them are over 2,500.
    expect(run({ l: numbers(300) })).toEqual({ reason: 'budget_exceeded', detail: 'transforms[1].compute.b: over expression_budget.max_cost' });
    const small: Record<string, unknown> = { l: numbers(100) };
    expect(run(small)).toBe('keep');
    expect(small).toMatchObject({ a: 98, b: 100 });
  });

  it('bounds time as well: max_time cuts off work the cost model does not see', () => {
    const run = transform({ filter: 'l.all(x, x in l)' }, { max_cost: Number.MAX_SAFE_INTEGER, max_time: 1 });
    expect(run({ l: numbers(20_000) })).toEqual({ reason: 'budget_exceeded', detail: 'transforms[0].filter: over expression_budget.max_time' });
  });

  it('meters metric filters too, with the default budget', () => {
    const filter = compileExpression('l.all(x, l.all(y, x != y || x == y))');
    expect(() => filter({ l: numbers(1_000) })).toThrow('over the expression budget');
    expect(filter({ l: numbers(10) })).toBe(true);
  });

  it('leaves the semantics of comprehensions to cel-js', () => {
    const context = { l: [3.0, 0.0, -1.0], m: { a: 1.0, bb: 2.0 }, s: ['x', 'yy'] };
    for (const source of [
      'l.all(x, x > -2.0)',
      'l.exists(x, x == 0.0)',
      'l.exists_one(x, x < 0.0)',
      'l.map(x, x * 2.0)',
      'l.map(x, x > 0.0, x * 10.0)',
      'l.filter(x, x >= 0.0)',
      'm.all(k, size(k) <= 2)',
      'm.map(k, m[k])',
      's.exists(v, v.matches("^y+$"))',
      '[1, 0].exists(x, 1 / x == 1)', // the error of one step is absorbed when another step decides
      'cel.bind(t, l.filter(x, x > 0.0), t.size())',
    ]) {
      expect(compileExpression(source)(context), source).toEqual(parse(source)(context));
    }
    expect(() => compileExpression('[1, 0].all(x, 1 / x == 1)')({})).toThrow(); // and raised when none does
  });
});

describe('a pipeline dead-letters the record over budget and keeps the others', () => {
  const file = fileURLToPath(new URL('../../pipelines/bailian-gateway.yaml', import.meta.url));
  const text = readFileSync(file, 'utf8').replace(
    'transforms:\n',
    ['expression_budget: { max_cost: 50000, max_time: 10m }', 'transforms:', '  - filter: \'model.split("").all(a, model.split("").all(b, a != "" && b != ""))\'', ''].join('\n'),
  );
  const loaded = parsePipeline(text, file, {});
  const ingest = new Ingest(loaded);
  const log = (model: string) =>
    Buffer.from(JSON.stringify({
      request_id: 'r-1', timestamp: 1_790_000_000_123, tenant_id: 'acme', workspace_id: 'ws-1', app_id: null, api_key_id: 'k-1', model,
      api: 'chat.completions', http_status: 200, error_code: null, latency_ms: 12.5, ttft_ms: 3.0, input_tokens: 100, cached_tokens: 0, output_tokens: 20,
      stream: true, region: 'cn-beijing',
    }));

  it('reads expression_budget from the pipeline, and defaults it', () => {
    expect(loaded.config.expression_budget).toEqual({ max_cost: 50_000, max_time: 600_000 });
    expect(parsePipeline(readFileSync(file, 'utf8'), file, {}).config.expression_budget).toEqual({ max_cost: 100_000, max_time: 100 });
  });

  it('rejects the hostile record as budget_exceeded, then takes the next one', () => {
    expect(ingest.ingest(log('x'.repeat(2_000)), EMPTY_CONTEXT)).toEqual({
      records: [],
      rejections: [{ reason: 'budget_exceeded', detail: 'transforms[0].filter: over expression_budget.max_cost' }],
      filtered: 0,
    });
    const good = ingest.ingest(log('qwen-plus'), EMPTY_CONTEXT);
    expect(good).toMatchObject({ records: [{ tenant: 'acme', record: { model: 'qwen-plus' } }], rejections: [], filtered: 0 });
  });

  it('refills one batch message after message: nothing of the previous message stays in it', () => {
    const batch = new IngestedBatch();
    expect(ingest.ingestInto(log('qwen-plus'), EMPTY_CONTEXT, batch)).toBeUndefined();
    expect([batch.count, batch.tenants[0], batch.eventTimes[0], batch.records[0]?.model, batch.rejections]).toEqual([1, 'acme', 1_790_000_000_123, 'qwen-plus', undefined]);
    expect(ingest.ingestInto(log('x'.repeat(2_000)), EMPTY_CONTEXT, batch)).toBeUndefined();
    expect([batch.count, batch.rejections]).toEqual([0, [{ reason: 'budget_exceeded', detail: 'transforms[0].filter: over expression_budget.max_cost' }]]);
    // The previous message's record is let go, not kept alive in the reused column.
    expect(batch.records.some((record) => record.model === 'qwen-plus')).toBe(false);
    expect(ingest.ingestInto(Buffer.from('{"a":'), EMPTY_CONTEXT, batch)).toMatchObject({ reason: 'malformed' });
    expect([batch.count, batch.rejections]).toEqual([0, undefined]);
    expect(ingest.ingestInto(log('qwen-max'), EMPTY_CONTEXT, batch)).toBeUndefined();
    expect(batch.entries()).toMatchObject([{ tenant: 'acme', eventTimeMs: 1_790_000_000_123, record: { model: 'qwen-max' } }]);
  });
});

describe('dead-letter details name the rule, never a value', () => {
  const secret = 'SECRET-7f3a';
  const cases: [TransformConfig, Record<string, unknown>, string][] = [
    [{ compute: { c: 'prices[model].input' } }, { model: secret }, 'transforms[0].compute.c: no such key: prices[…]'],
    [{ compute: { c: 'attributes[key]' } }, { attributes: { a: 1 }, key: secret }, 'transforms[0].compute.c: no such key: attributes[…]'],
    [{ compute: { c: 'int(s) + 1' } }, { s: secret }, 'transforms[0].compute.c: int conversion error at character 1'],
    [{ compute: { c: 's + 1.0' } }, { s: secret }, 'transforms[0].compute.c: no such overload at character 1'],
    [{ filter: 'labels.a.b == "x"' }, { labels: { a: secret } }, 'transforms[0].filter: no such key: labels.a.b'],
    [{ filter: 'missing > 1.0' }, { other: secret }, 'transforms[0].filter: unknown variable: missing'],
    [{ filter: 's.matches(p)' }, { s: 'x', p: `(${secret}` }, 'transforms[0].filter: invalid regular expression: p'],
  ];

  it.each(cases)('%j', (config, record, detail) => {
    const outcome = compileTransforms([config], { prices: { known: { input: 1.0 } } }, costOnly)!(record);
    expect(outcome).toMatchObject({ reason: 'invalid_value' });
    const got = (outcome as { detail: string }).detail;
    expect(got).not.toContain(secret);
    expect(got.startsWith(detail), got).toBe(true);
  });
});

describe('patterns RE2 refuses are config errors at file:line:col', () => {
  it('refuses a relabel regex with a backreference, naming the rule and not the pattern', () => {
    const text = ['name: p', 'transforms:', '  - relabel:', '      - action: keep', '        source_labels: [a]', "        regex: '(x+)\\1'"].join('\n');
    const found = configProblems(text).filter((line) => line.includes('transforms'));
    expect(found).toEqual(['p.yaml:6:16: transforms[0].relabel[0].regex: invalid regex (RE2 syntax): invalid escape sequence']);
  });

  it('refuses a relabel regex with lookahead', () => {
    const text = ['name: p', 'transforms:', '  - relabel:', "      - { action: drop, source_labels: [a], regex: 'x(?=y)' }"].join('\n');
    expect(configProblems(text).filter((line) => line.includes('transforms'))).toEqual([
      'p.yaml:4:52: transforms[0].relabel[0].regex: invalid regex (RE2 syntax): invalid or unsupported Perl syntax',
    ]);
  });

  it('refuses a literal matches() pattern RE2 cannot compile, at the expression', () => {
    const text = ['name: p', 'transforms:', "  - filter: 'model.matches(\"(a)\\\\1\")'"].join('\n');
    expect(configProblems(text).filter((line) => line.includes('transforms'))).toEqual([
      'p.yaml:3:13: transforms[0].filter: invalid expression: invalid RE2 regular expression: invalid escape sequence',
    ]);
  });

  it('refuses an unknown function when loading, not on every record', () => {
    const text = ['name: p', 'transforms:', "  - filter: 'no_such_function(model)'"].join('\n');
    expect(configProblems(text).filter((line) => line.includes('transforms'))).toEqual([
      expect.stringMatching(/^p\.yaml:3:13: transforms\[0\]\.filter: invalid expression: .*no_such_function/),
    ]);
  });
});
