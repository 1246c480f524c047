import { Environment, EvaluationError, ParseError } from '@marcbachmann/cel-js';
import { costMeter } from './cost-meter.ts';
import { compileRe2, Re2SyntaxError, type Re2 } from './re2.ts';

/**
 * The CEL environment of every pipeline expression: cel-js as its global `parse` configures it
 * (undeclared variables are dynamic), with two changes that bound the work of one evaluation.
 *
 * - `matches` runs on RE2 (linear time) instead of JavaScript's backtracking RegExp, and charges
 *   the cost meter for the scan before it starts. A literal pattern is compiled once, when the
 *   expression is parsed, so an invalid one is refused when the pipeline is loaded.
 * - The comprehension macros charge the meter once per evaluation of their range and once per
 *   step, weighted by the size of the step expression.
 *
 * Both use cel-js's macro mechanism: a macro is chosen at parse time by method name and argument
 * count alone (the parser cannot know the receiver's type), and a macro registered later wins, so
 * declaring them on a receiver type of our own (`SluiceMetered`) takes over every `.matches(...)`,
 * `.all(...)` etc. without overlapping the built-in declarations. The comprehensions delegate to
 * cel-js's own expanders, so their semantics (error absorption in `all` / `exists`, map keys as
 * the range) stay exactly cel-js's. Custom AST nodes use the node shape cel-js's own macros use
 * (`clone(op, args)` with an op of `{ name, check, evaluate }`); cel-js is pinned to an exact
 * version and test/unit/transforms-budget.test.ts covers the hook.
 */

interface CelNode {
  readonly op: string;
  readonly args: unknown;
  clone(op: CelOp, args: unknown): CelNode;
  setMeta(key: string, value: unknown): CelNode;
}

interface CelType {
  readonly kind: string;
  readonly name: string;
}

interface Checker {
  check(node: CelNode, ctx: unknown): CelType;
  getType(name: string): CelType;
  createError(code: string, message: string, node: CelNode): Error;
}

interface Evaluator {
  run(node: CelNode, ctx: unknown): unknown;
}

interface CelOp {
  readonly name: string;
  check(chk: Checker, ast: CelNode, ctx: unknown): CelType;
  evaluate(ev: Evaluator, ast: CelNode, ctx: unknown): unknown;
}

interface MacroInput {
  readonly ast: CelNode;
  readonly args: readonly CelNode[];
  readonly receiver: CelNode;
  readonly methodName: string;
  readonly parser: { readonly registry: { functionCandidates(receiver: boolean, name: string, argc: number): { declarations: readonly Declaration[] } } };
}

interface Declaration {
  readonly macro: boolean;
  readonly receiverType: { readonly kind: string } | null;
  readonly handler: (input: MacroInput) => unknown;
}

class SluiceMetered {}

/**
 * Cost of one regex scan per input character: 1 + program size / 64 units. Measured with re2js on
 * 200k-character inputs built to defeat its prefilter and DFA: 50–150 ns per character for small
 * programs, ~850 ns for a 402-instruction one on a cold start; a unit of comprehension work
 * (one node of a step) is ~120 ns.
 */
const REGEX_INSTRUCTIONS_PER_UNIT = 64;

/** Compiling a pattern that arrives at run time costs about this many units per character. */
const COMPILE_UNITS_PER_CHAR = 8;

/** Dynamic patterns (from a record or a computed string) are compiled once per distinct pattern: this many, this long at most. */
const DYNAMIC_PATTERN_CACHE = 64;
const CACHED_PATTERN_CHARS = 1_024;

export const celEnvironment = createEnvironment();

function createEnvironment(): Environment {
  const env = new Environment({ unlistedVariablesAreDyn: true }).registerType('SluiceMetered', SluiceMetered);
  env.registerFunction('SluiceMetered.matches(ast): bool', matchesMacro);
  for (const [name, argc, returns] of [
    ['all', 2, 'bool'],
    ['exists', 2, 'bool'],
    ['exists_one', 2, 'bool'],
    ['map', 2, 'list<dyn>'],
    ['map', 3, 'list<dyn>'],
    ['filter', 2, 'list<dyn>'],
  ] as const) {
    const params = Array.from({ length: argc }, () => 'ast').join(', ');
    env.registerFunction(`SluiceMetered.${name}(${params}): ${returns}`, meteredComprehension(name, argc));
  }
  return env;
}

/** `string.matches(pattern)`: RE2, unanchored, as the CEL specification says. */
function matchesMacro({ receiver, args }: MacroInput) {
  const pattern = args[0]!;
  const literal = pattern.op === 'value' && typeof pattern.args === 'string' ? compileLiteral(pattern) : undefined;
  return {
    async: false,
    typeCheck(chk: Checker, _macro: unknown, ctx: unknown): CelType {
      for (const node of [receiver, pattern]) {
        const type = chk.check(node, ctx);
        if (type.name !== 'string' && type.kind !== 'dyn') throw chk.createError('no_such_overload', 'matches() takes a string and a string pattern', node);
      }
      return chk.getType('bool');
    },
    evaluate(ev: Evaluator, _macro: unknown, ctx: unknown): boolean {
      const input = ev.run(receiver, ctx);
      const re = literal ?? dynamicPattern(ev.run(pattern, ctx), pattern);
      if (typeof input !== 'string') throw evaluationError('no_such_overload', 'matches() takes a string', receiver);
      costMeter.charge(1 + Math.ceil(input.length * (1 + re.programSize() / REGEX_INSTRUCTIONS_PER_UNIT)));
      return re.test(input);
    },
  };
}

function compileLiteral(pattern: CelNode): Re2 {
  try {
    return compileRe2(pattern.args as string);
  } catch (error) {
    throw new ParseError({ code: 'invalid_regular_expression', message: `invalid RE2 regular expression: ${(error as Error).message}`, node: pattern as never });
  }
}

/** An error of cel-js's own kind, so the rejection names its code and the expression node. */
function evaluationError(code: string, message: string, node: CelNode): EvaluationError {
  return new EvaluationError({ code, message, node: node as never });
}

const dynamicPatterns = new Map<string, Re2>();

function dynamicPattern(source: unknown, node: CelNode): Re2 {
  if (typeof source !== 'string') throw evaluationError('no_such_overload', 'matches() takes a string pattern', node);
  let re = dynamicPatterns.get(source);
  if (re) return re;
  costMeter.charge(1 + source.length * COMPILE_UNITS_PER_CHAR);
  try {
    re = compileRe2(source);
  } catch (error) {
    if (!(error instanceof Re2SyntaxError)) throw error;
    throw evaluationError('invalid_regular_expression', 'invalid regular expression', node);
  }
  if (source.length > CACHED_PATTERN_CHARS) return re;
  if (dynamicPatterns.size >= DYNAMIC_PATTERN_CACHE) dynamicPatterns.delete(dynamicPatterns.keys().next().value!);
  dynamicPatterns.set(source, re);
  return re;
}

/** A comprehension macro that meters its range and its steps, then expands as cel-js's own does. */
function meteredComprehension(name: string, argc: number) {
  return (input: MacroInput): unknown => {
    const builtin = input.parser.registry
      .functionCandidates(true, name, argc)
      .declarations.find((declaration) => declaration.macro && declaration.receiverType?.kind === 'list');
    if (!builtin) throw new Error(`cel-js has no built-in ${name} macro to meter`);
    const [variable, step, ...rest] = input.args as [CelNode, CelNode, ...CelNode[]];
    // One unit per node evaluated per step, the body after the first argument (map's transform too).
    const weight = [step, ...rest].reduce((sum, node) => sum + countNodes(node), 0);
    return builtin.handler({
      ...input,
      receiver: metered(input.receiver, 1),
      args: [variable, metered(step, weight), ...rest],
    });
  };
}

/** Wraps `node` so each evaluation first charges `units` to the cost meter. */
function metered(node: CelNode, units: number): CelNode {
  const op: CelOp = {
    name: 'metered',
    check: (chk, ast, ctx) => chk.check(ast.args as CelNode, ctx),
    evaluate: (ev, ast, ctx) => {
      costMeter.charge(units);
      return ev.run(ast.args as CelNode, ctx);
    },
  };
  return node.clone(op, node).setMeta('async', false);
}

/** AST nodes under `node` (an ASTNode's args are a node, a list of nodes, nested lists, or plain values). */
function countNodes(node: unknown): number {
  if (Array.isArray(node)) return node.reduce((sum: number, child) => sum + countNodes(child), 0);
  if (node === null || typeof node !== 'object' || !('op' in node)) return 0;
  return 1 + countNodes((node as CelNode).args);
}
