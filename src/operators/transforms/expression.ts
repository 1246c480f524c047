import { z } from 'zod';
import type { Rejection } from '../../core/dead-letter-reason.ts';
import { compileCel, FALLBACK, type CompiledCel, type VariableReader } from './cel-compiler.ts';
import { celEnvironment } from './cel-environment.ts';
import { BudgetExceeded, costMeter, DEFAULT_EXPRESSION_BUDGET } from './cost-meter.ts';

/**
 * Expressions in pipelines are CEL (Common Expression Language, as Kubernetes and Envoy use it):
 * side-effect free, no loops, no access outside the record, parsed once at load time — never
 * `eval`. Record fields are variables (`model`, `usage.input_tokens`); `constants` from the
 * pipeline are visible too. JSON numbers are doubles, so write `1000.0`, not `1000`.
 * Every evaluation is metered (cost-meter.ts): one that runs over its budget throws BudgetExceeded.
 */
export type CompiledExpression = (context: Record<string, unknown>) => unknown;

type Parsed = CompiledExpression & { ast: unknown };

export function compileExpression(source: string): CompiledExpression {
  const parsed = celEnvironment.parse(source) as unknown as Parsed;
  const interpreted = metered(parsed);
  const compiled = compiledOrUndefined(source, parsed, (field) => ({ field }));
  return compiled === undefined ? interpreted : withFallback(compiled, interpreted);
}

/**
 * Compiles an expression that may read pipeline constants. Without constants the record itself
 * is the context. With them, one context object per expression inherits the constants and gets
 * just the record fields the expression names, copied in per evaluation. Re-prototyping each
 * record onto the constants instead costs nothing in a micro-benchmark but deoptimises the record
 * for everything that reads it later: gateway pipeline ingest + combiner, 200k records, one core,
 * measured 48k → 74k records/s with this binding.
 * A record field named like a constant is shadowed by the constant.
 */
export function bindExpression(source: string, constants: Readonly<Record<string, unknown>>): CompiledExpression {
  if (Object.keys(constants).length === 0) return compileExpression(source);
  const parsed = celEnvironment.parse(source) as unknown as Parsed;
  const interpreted = interpretBound(parsed, constants);
  const compiled = compiledOrUndefined(source, parsed, (name) => {
    if (Object.hasOwn(constants, name)) return { constant: constants[name] };
    return { field: name };
  });
  return compiled === undefined ? interpreted : withFallback(compiled, interpreted);
}

/**
 * The expression on cel-js alone, as it ran before cel-compiler.ts: the fallback of the compiled
 * path, and the reference tests compare it with.
 */
export function interpretExpression(source: string, constants: Readonly<Record<string, unknown>> = {}): CompiledExpression {
  const parsed = celEnvironment.parse(source) as unknown as Parsed;
  return Object.keys(constants).length === 0 ? metered(parsed) : interpretBound(parsed, constants);
}

function interpretBound(parsed: Parsed, constants: Readonly<Record<string, unknown>>): CompiledExpression {
  const fields = [...identifiers(parsed.ast)].filter((name) => !Object.hasOwn(constants, name));
  const context = Object.create(constants) as Record<string, unknown>;
  return metered((record) => {
    for (let i = 0; i < fields.length; i++) {
      const name = fields[i]!;
      context[name] = Object.hasOwn(record, name) ? record[name] : undefined;
    }
    return parsed(context);
  });
}

/**
 * The expression as closures (cel-compiler.ts), or undefined when it uses a construct the
 * compiler leaves to cel-js or does not type-check (cel-js then throws its error on every record).
 */
function compiledOrUndefined(source: string, parsed: Parsed, variable: VariableReader): CompiledCel | undefined {
  if (expressionProblem(source) !== undefined) return undefined;
  // Type names (`int`, `map`, …) are variables cel-js declares itself: they never read the record.
  return compileCel(parsed.ast, (name) => (celEnvironment.hasVariable(name) ? undefined : variable(name)));
}

/**
 * The compiled closure, and cel-js for any record it cannot decide. Compiled expressions contain
 * nothing that charges the cost meter, so they need no meter scope of their own.
 */
function withFallback(compiled: CompiledCel, interpreted: CompiledExpression): CompiledExpression {
  return (record) => {
    const value = compiled(record);
    return value === FALLBACK ? interpreted(record) : value;
  };
}

/**
 * Evaluates inside a cost-meter scope: the record's scope when transforms opened one, else a
 * scope of the default budget (metric filters). The verdict is taken after the evaluation,
 * since CEL's `all` and `exists` absorb errors of single steps.
 */
function metered(evaluate: CompiledExpression): CompiledExpression {
  return (context) => {
    const opened = costMeter.begin(DEFAULT_EXPRESSION_BUDGET);
    try {
      const value = evaluate(context);
      costMeter.settle();
      return value;
    } finally {
      if (opened) costMeter.end();
    }
  };
}

/** The names an expression reads (record fields, constants, comprehension variables); undefined when `source` is not CEL. */
export function expressionIdentifiers(source: string): string[] | undefined {
  try {
    return [...identifiers((celEnvironment.parse(source) as unknown as Parsed).ast)];
  } catch {
    return undefined;
  }
}

/** Top-level variable names in a cel-js AST (`{ op: 'id', args: name }` nodes). */
function identifiers(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) {
    for (const child of node) identifiers(child, out);
  } else if (node !== null && typeof node === 'object') {
    const { op, args } = node as { op?: string; args?: unknown };
    if (op === 'id' && typeof args === 'string') out.add(args);
    else identifiers(args, out);
  }
  return out;
}

/**
 * A zod string that must parse and type-check as CEL (so an unknown function or a bad `matches`
 * pattern is a config error at the expression, not a failure of every record).
 */
export function expressionSchema(description: string) {
  return z
    .string()
    .min(1)
    .superRefine((source, ctx) => {
      const problem = expressionProblem(source);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `invalid expression: ${problem}` });
    })
    .describe(`${description} (a CEL expression).`);
}

/** Why `source` is not a usable expression, or undefined. Checked on a parse of its own: checking marks the AST. */
export function expressionProblem(source: string): string | undefined {
  try {
    const checked = (celEnvironment.parse(source) as unknown as { check(): { valid: boolean; error?: unknown } }).check();
    return checked.valid ? undefined : summary(checked.error);
  } catch (error) {
    return summary(error);
  }
}

/** The first line of a parse or type error about the expression itself (never about a record). */
function summary(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0]!.slice(0, 200);
}

/**
 * The rejection for a record whose expression at `where` (`transforms[1].compute.cost`) failed.
 * It names the rule, the kind of failure and the part of the expression, never a value: cel-js's
 * own messages quote values ("No such key: <the record's model>").
 */
export function expressionRejection(where: string, error: unknown): Rejection {
  // Once the record ran out, whatever the evaluation threw is a consequence of that.
  if (error instanceof BudgetExceeded || costMeter.exceededBy !== undefined) {
    const limit = costMeter.exceededBy === 'time' ? 'max_time' : 'max_cost';
    return { reason: 'budget_exceeded', detail: `${where}: over expression_budget.${limit}` };
  }
  return { reason: 'invalid_value', detail: `${where}: ${failureOf(error)}` };
}

interface CelFailure {
  readonly code?: unknown;
  readonly node?: { readonly op: string; readonly args: unknown };
  readonly range?: { readonly start: number };
}

function failureOf(error: unknown): string {
  const { code, node, range } = (error ?? {}) as CelFailure;
  if (typeof code !== 'string') return 'evaluation failed';
  const kind = code.replaceAll('_', ' ');
  const subject = node ? nameOf(node) : undefined;
  if (subject !== undefined) return `${kind}: ${subject}`;
  return range ? `${kind} at character ${range.start + 1}` : kind;
}

/** An expression node as written, when it is made of names only (`usage.input_tokens`, `prices[…]`). */
function nameOf(node: { readonly op: string; readonly args: unknown }): string | undefined {
  const args = node.args as [typeof node, unknown];
  switch (node.op) {
    case 'id':
      return typeof node.args === 'string' ? node.args : undefined;
    case '.':
    case '.?': {
      const left = nameOf(args[0]);
      return left === undefined ? undefined : `${left}.${String(args[1])}`;
    }
    case '[]':
    case '[?]': {
      const left = nameOf(args[0]);
      return left === undefined ? undefined : `${left}[…]`;
    }
    default:
      return undefined;
  }
}
