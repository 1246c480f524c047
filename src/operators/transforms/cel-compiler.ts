/**
 * Compiles a parsed CEL expression (cel-js's AST) once into a tree of JavaScript closures, so a
 * record costs a few direct calls instead of cel-js's per-node dispatch, runtime type lookup and
 * overload search (9.8 % of the gateway pipeline's CPU, issue 12).
 *
 * The closures cover only the cases whose result is certain without cel-js: doubles, strings,
 * booleans and null under the operators below, field and key access on plain objects. Every
 * other case — an int or uint operand, a missing key or variable, a non-bool condition, a Map, an
 * error anywhere — makes the closure return FALLBACK, and the caller evaluates the same record
 * with cel-js, which yields the exact value or error it always did. The closures have no side
 * effects, so running cel-js after a FALLBACK is indistinguishable from running it alone.
 *
 * Constructs not compiled at all (the whole expression stays on cel-js): comprehensions
 * (`all`, `exists`, `exists_one`, `map`, `filter`), `matches`, `has()`, optional access (`.?`,
 * `[?]`), list and map literals, `%`, and functions other than `string()`, `double()`,
 * `startsWith`, `endsWith`, `contains`. Those are the metered ones (cost-meter.ts), so a compiled
 * expression never charges the meter and a fallback never charges twice.
 * test/unit/transforms-cel-compiler.test.ts runs every shipped expression and a conformance table
 * both ways and asserts identical results and errors.
 */

import { arithmetic } from './cel-arithmetic.ts';
import { constantKeys, type ConstantKeys } from './constant-keys.ts';
import {
  comparison,
  equalsLiteral,
  FALLBACK,
  fieldRead,
  fieldReadBy,
  isCelValue,
  isNullable,
  isPlainObject,
  isScalar,
  literal,
  literals,
  mapHasOperandType,
  type CompiledCel,
} from './cel-operators.ts';

export { FALLBACK, type CompiledCel } from './cel-operators.ts';

/**
 * Reads a variable for a record: its value, or undefined when it has none (cel-js then says
 * unknown_variable). `{ field: name }` is the record's own field of that name, read by the
 * closures themselves (see fieldRead). No reader (undefined) for a name cel-js declares itself
 * (`int`, `map`, …): it is not the record's. A pipeline constant is `{ constant: value }`: the
 * same for every record, and never changed after load, so lookups into it are resolved at compile time.
 */
export type VariableReader = (
  name: string,
) => ((record: Record<string, unknown>) => unknown) | { readonly field: string } | { readonly constant: unknown } | undefined;

/** Closures that give a pipeline constant's plain object (`prices`): its members are folded. */
const constantObjects = new WeakMap<CompiledCel, Record<string, unknown>>();

/**
 * Closures that look a record-chosen key up in a constant (`prices[model]`, `prices[model].input`):
 * the closure giving the key, and every key's result, computed once. A key without a result (not
 * an own member, or not a plain CEL value) falls back to cel-js, as the per-record lookup did.
 */
const constantTables = new WeakMap<CompiledCel, ConstantTable>();

/** The result of a lookup into a constant for each of its keys (by ConstantKeys number): a value or FALLBACK. */
interface ConstantTable {
  readonly key: CompiledCel;
  readonly keys: ConstantKeys;
  readonly values: readonly unknown[];
}

interface Node {
  readonly op: unknown;
  readonly args: unknown;
}

/** A closure per expression, or undefined when the expression uses a construct this does not compile. */
export function compileCel(ast: unknown, variable: VariableReader): CompiledCel | undefined {
  try {
    return compileNode(ast as Node, variable);
  } catch (error) {
    if (error instanceof NotCompiled) return undefined;
    throw error;
  }
}

class NotCompiled extends Error {}

function compileNode(node: Node, variable: VariableReader): CompiledCel {
  const compile = (child: unknown) => compileNode(child as Node, variable);
  switch (node.op) {
    case 'value': {
      const value = node.args;
      if (!isScalar(value)) throw new NotCompiled();
      return literal(() => value, value);
    }
    case 'id': {
      const read = variable(node.args as string);
      if (read === undefined) throw new NotCompiled();
      if (typeof read !== 'function') {
        if (!('field' in read)) return constantNode(read.constant);
        // A name Object.prototype has (`constructor`) is read with its own-field check, below.
        if (!(read.field in Object.prototype)) return fieldRead(read.field);
        const name = read.field;
        return idOf((record) => (Object.hasOwn(record, name) ? record[name] : undefined));
      }
      return idOf(read);
    }
    case '.': {
      const [target, key] = node.args as [Node, string];
      return fieldOf(compile(target), key);
    }
    case '[]': {
      const [target, index] = node.args as [Node, Node];
      if (index.op === 'value' && typeof index.args === 'string') return fieldOf(compile(target), index.args);
      const left = compile(target);
      const right = compile(index);
      const constant = constantObjects.get(left);
      if (constant !== undefined) {
        const keys = constantKeys(constant);
        return tableLookup({ key: right, keys, values: keys.names.map((name) => ownField(constant, name)) });
      }
      const [leftField, rightField] = [fieldReadBy(left), fieldReadBy(right)];
      return (record) => {
        const object = leftField === undefined ? left(record) : record[leftField];
        const key = rightField === undefined ? right(record) : record[rightField];
        return typeof key === 'string' ? ownField(object, key) : FALLBACK;
      };
    }
    case 'in': {
      const [needle, haystack] = node.args as [Node, Node];
      const left = compile(needle);
      const right = compile(haystack);
      const constant = constantObjects.get(right);
      // A constant cel-js cannot type (its first member undefined) is looked at per record, below.
      if (constant !== undefined && mapHasOperandType(constant)) {
        const keys = constantKeys(constant);
        const members = keys.names.map((name) => constant[name] !== undefined);
        const leftField = fieldReadBy(left);
        return (record) => {
          const key = leftField === undefined ? left(record) : record[leftField];
          if (typeof key !== 'string') return FALLBACK;
          const number = keys.numberOf(key);
          return number >= 0 && members[number]!;
        };
      }
      const [leftField, rightField] = [fieldReadBy(left), fieldReadBy(right)];
      return (record) => {
        const key = leftField === undefined ? left(record) : record[leftField];
        const map = rightField === undefined ? right(record) : record[rightField];
        if (typeof key !== 'string' || !isPlainObject(map) || !mapHasOperandType(map)) return FALLBACK;
        return Object.hasOwn(map, key) && map[key] !== undefined;
      };
    }
    case '==':
    case '!=': {
      const [a, b] = (node.args as [Node, Node]).map(compile) as [CompiledCel, CompiledCel];
      const negate = node.op === '!=';
      if (literals.has(b)) return equalsLiteral(a, literals.get(b)!, negate);
      const [aField, bField] = [fieldReadBy(a), fieldReadBy(b)];
      return (record) => {
        const left = aField === undefined ? a(record) : record[aField];
        const right = bField === undefined ? b(record) : record[bField];
        // Same scalar type, or null against a scalar: CEL's answer is JavaScript's `===`.
        const sameType = typeof left === typeof right && (typeof left === 'string' || typeof left === 'number' || typeof left === 'boolean');
        if (!sameType && !(isNullable(left) && isNullable(right) && (left === null || right === null))) return FALLBACK;
        return (left === right) !== negate;
      };
    }
    case '<':
    case '<=':
    case '>':
    case '>=':
      return comparison(node.op, compile((node.args as Node[])[0]), compile((node.args as Node[])[1]));
    case '+':
    case '-':
    case '*':
    case '/':
      return arithmetic(node.op, compile((node.args as Node[])[0]), compile((node.args as Node[])[1]));
    case '&&':
    case '||': {
      const [a, b] = (node.args as [Node, Node]).map(compile) as [CompiledCel, CompiledCel];
      // Only a bool left operand is decided here: cel-js's error absorption handles the rest.
      const decisive = node.op === '||';
      const [aField, bField] = [fieldReadBy(a), fieldReadBy(b)];
      return (record) => {
        const left = aField === undefined ? a(record) : record[aField];
        if (left === decisive) return decisive;
        if (left !== !decisive) return FALLBACK;
        const right = bField === undefined ? b(record) : record[bField];
        return typeof right === 'boolean' ? right : FALLBACK;
      };
    }
    case '!_': {
      const inner = compile(node.args);
      const innerField = fieldReadBy(inner);
      return (record) => {
        const value = innerField === undefined ? inner(record) : record[innerField];
        return typeof value === 'boolean' ? !value : FALLBACK;
      };
    }
    case '-_': {
      const inner = compile(node.args);
      // `-1.0` is the negation of a literal: folded, so it is a literal too (`x > -1.0` specialises).
      const constant = literals.get(inner);
      if (typeof constant === 'number') {
        const negated = -constant;
        return literal(() => negated, negated);
      }
      const innerField = fieldReadBy(inner);
      return (record) => {
        const value = innerField === undefined ? inner(record) : record[innerField];
        return typeof value === 'number' ? -value : FALLBACK;
      };
    }
    case '?:': {
      const [c, t, f] = (node.args as [Node, Node, Node]).map(compile) as [CompiledCel, CompiledCel, CompiledCel];
      // The branches' values are the result as they are: only the condition is read inline.
      const cField = fieldReadBy(c);
      return (record) => {
        const condition = cField === undefined ? c(record) : record[cField];
        if (condition === true) return t(record);
        return condition === false ? f(record) : FALLBACK;
      };
    }
    case 'call':
      return call(node.args as [string, Node[]], compile);
    case 'rcall':
      return receiverCall(node.args as [string, Node, Node[]], compile);
    default:
      throw new NotCompiled();
  }
}

function fieldOf(target: CompiledCel, key: string): CompiledCel {
  const constant = constantObjects.get(target);
  if (constant !== undefined) return constantNode(ownField(constant, key));
  const table = constantTables.get(target);
  if (table !== undefined) return tableLookup({ ...table, values: table.values.map((value) => (value === FALLBACK ? FALLBACK : ownField(value, key))) });
  const targetField = fieldReadBy(target);
  return (record) => ownField(targetField === undefined ? target(record) : record[targetField], key);
}

/** A constant's closure: its value when it is a CEL value (FALLBACK otherwise), remembered when it is a plain object. */
function constantNode(value: unknown): CompiledCel {
  const result = isCelValue(value) ? value : FALLBACK;
  const node: CompiledCel = () => result;
  if (isPlainObject(value)) constantObjects.set(node, value);
  return isScalar(value) ? literal(node, value) : node;
}

/** `key(record)` looked up in a constant, each key's result computed at compile time; a key without one falls back to cel-js. */
function tableLookup(table: ConstantTable): CompiledCel {
  const { key, keys, values } = table;
  const keyField = fieldReadBy(key);
  const node: CompiledCel = (record) => {
    const name = keyField === undefined ? key(record) : record[keyField];
    if (typeof name !== 'string') return FALLBACK;
    const number = keys.numberOf(name);
    return number < 0 ? FALLBACK : values[number];
  };
  constantTables.set(node, table);
  return node;
}

/** A variable as `read` gives it, as CEL sees it: the value, or FALLBACK where it is missing or no CEL value. */
function idOf(read: (record: Record<string, unknown>) => unknown): CompiledCel {
  return (record) => {
    const value = read(record);
    return isCelValue(value) ? value : FALLBACK;
  };
}

function ownField(object: unknown, key: string): unknown {
  if (!isPlainObject(object) || !Object.hasOwn(object, key)) return FALLBACK;
  const value = object[key];
  return isCelValue(value) ? value : FALLBACK;
}

/** `string(s)` of a string and `double(d)` of a double are the value itself; other conversions format or parse. */
function call([name, args]: [string, Node[]], compile: (node: unknown) => CompiledCel): CompiledCel {
  if (args.length !== 1 || (name !== 'string' && name !== 'double')) throw new NotCompiled();
  const inner = compile(args[0]);
  const innerField = fieldReadBy(inner);
  const type = name === 'string' ? 'string' : 'number';
  return (record) => {
    const value = innerField === undefined ? inner(record) : record[innerField];
    return typeof value === type ? value : FALLBACK;
  };
}

function receiverCall([name, receiver, args]: [string, Node, Node[]], compile: (node: unknown) => CompiledCel): CompiledCel {
  if (!Object.hasOwn(STRING_METHODS, name) || args.length !== 1) throw new NotCompiled();
  const method = STRING_METHODS[name]!;
  const target = compile(receiver);
  const argument = compile(args[0]);
  const [targetField, argumentField] = [fieldReadBy(target), fieldReadBy(argument)];
  // A string literal argument (`startsWith("Throttling")`) is used as it is, not called for.
  const constant = literals.get(argument);
  const literalArgument = typeof constant === 'string' ? constant : undefined;
  return (record) => {
    const text = targetField === undefined ? target(record) : record[targetField];
    const other = literalArgument ?? (argumentField === undefined ? argument(record) : record[argumentField]);
    return typeof text === 'string' && typeof other === 'string' ? method(text, other) : FALLBACK;
  };
}

const STRING_METHODS: Readonly<Record<string, (text: string, other: string) => boolean>> = {
  startsWith: (text, other) => text.startsWith(other),
  endsWith: (text, other) => text.endsWith(other),
  contains: (text, other) => text.includes(other),
};
