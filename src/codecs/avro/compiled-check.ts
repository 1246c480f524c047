import avro from 'avsc';
import { internalised } from '../../core/field-path.ts';
import { generatedFunction } from '../../core/generated-function.ts';

/** Whether a decoded value matches a schema: avsc's `Type.isValid(value)` verdict, exactly. */
export type AvroCheck = (value: unknown) => boolean;

/**
 * A record schema's validity check as one generated function: each field's test is inline code
 * for primitives and unions of them (most contract fields), and avsc's own `_check` of the
 * field's type for everything else (enums, fixed, bytes, arrays, maps, nested records, logical
 * types), so every verdict stays avsc's. avsc's checker calls a union's `_check`, which finds
 * the branch by the value's bucket through a lookup and calls the branch's `_check`: 8 % of the
 * JSON decoder's time on gateway logs (7 of their 20 fields are `["null", …]`).
 *
 * The rules mirrored are avsc 5.7's (lib/types.js): a record is any non-null object (arrays
 * included) whose fields each pass, where a field with a default may be undefined; int
 * `v === (v | 0)`; long a whole number within ±9007199254740990; float and double any number;
 * an unwrapped union the branch of the value's bucket (null, boolean, number, string, …).
 * `test/unit/codecs/avro-compiled-check.test.ts` compares the verdicts with avsc's.
 *
 * Field names are the factory's arguments, never text of the generated code (generatedFunction).
 * Undefined when the schema is not a record: `Type.isValid` then serves as it is.
 */
export function compileAvroCheck(type: avro.Type): AvroCheck | undefined {
  if (type.constructor !== avro.types.RecordType) return undefined;
  const record = type as avro.types.RecordType;
  const values: unknown[] = [];
  const param = (value: unknown): string => `p${values.push(value) - 1}`;
  let body = "if (v === null || typeof v !== 'object') return false;\nlet f;\n";
  for (const field of record.fields) {
    const read = `f = v[${param(internalised(field.name))}];\n`;
    const test = valueTest(field.type, 'f', param);
    body += field.defaultValue() === undefined ? `${read}if (!(${test})) return false;\n` : `${read}if (f !== undefined && !(${test})) return false;\n`;
  }
  return generatedFunction<AvroCheck>('checkAvroRecord', ['v'], `${body}return true;`, values);
}

/** One field of a record schema, checked on its own (a JSON scanner that builds no whole record). */
export interface AvroFieldCheck {
  readonly name: string;
  /** The schema gives no default: a record without the field fails. */
  readonly required: boolean;
  /** avsc's verdict on a present value of the field (the same test as the record check's). */
  readonly test: AvroCheck;
  /** Every string passes (a string, or a union with a string branch): its text need not be made to check it. */
  readonly anyString: boolean;
}

/**
 * The record check of `compileAvroCheck` split by field: a record passes when every present field
 * passes its `test` and no `required` field is missing. Undefined when the schema is not a record.
 */
export function compileAvroFieldChecks(type: avro.Type): AvroFieldCheck[] | undefined {
  if (type.constructor !== avro.types.RecordType) return undefined;
  return (type as avro.types.RecordType).fields.map((field) => {
    const values: unknown[] = [];
    const test = generatedFunction<AvroCheck>('checkAvroField', ['f'], `return ${valueTest(field.type, 'f', (value) => `p${values.push(value) - 1}`)};`, values);
    const branches = field.type.constructor === avro.types.UnwrappedUnionType ? (field.type as unknown as { types: avro.Type[] }).types : [field.type];
    return { name: field.name, required: field.defaultValue() === undefined, test, anyString: branches.some((branch) => branch.constructor === avro.types.StringType) };
  });
}

/** A boolean expression over the variable `x`: whether its value passes `type`'s check. */
function valueTest(type: avro.Type, x: string, param: (value: unknown) => string): string {
  const primitive = primitiveTest(type, x);
  if (primitive !== undefined) return primitive;
  if (type.constructor === avro.types.UnwrappedUnionType && (type as unknown as { _dynamicBranches: unknown })._dynamicBranches == null) {
    // An int branch tests its bucket first: `x | 0` throws on an object without valueOf, where
    // avsc, finding no branch for the value's bucket, answers false.
    const branches = (type as unknown as { types: avro.Type[] }).types.map((branch) =>
      branch.constructor === avro.types.IntType ? `typeof ${x} === 'number' && ${primitiveTest(branch, x)!}` : primitiveTest(branch, x),
    );
    // Each branch holds its own bucket (avsc refuses an ambiguous union), so "the value's bucket is
    // a branch's and passes it" is the disjunction of the branches' own tests.
    if (branches.every((test) => test !== undefined)) return branches.map((test) => `(${test})`).join(' || ');
  }
  return `${param(type)}._check(${x}, 0)`;
}

/** The inline test of a primitive type whose bucket its test implies; undefined for any other type. */
function primitiveTest(type: avro.Type, x: string): string | undefined {
  // The classes themselves, not subclasses: a custom long type (`LongType.__with`) checks its own way.
  const kind = type.constructor;
  if (kind === avro.types.NullType) return `${x} === null`;
  if (kind === avro.types.BooleanType) return `typeof ${x} === 'boolean'`;
  if (kind === avro.types.IntType) return `${x} === (${x} | 0)`;
  if (kind === avro.types.LongType) return `typeof ${x} === 'number' && ${x} % 1 === 0 && ${x} >= -${MAX_SAFE_LONG} && ${x} <= ${MAX_SAFE_LONG}`;
  if (kind === avro.types.FloatType || kind === avro.types.DoubleType) return `typeof ${x} === 'number'`;
  if (kind === avro.types.StringType) return `typeof ${x} === 'string'`;
  return undefined;
}

/** avsc's `isSafeLong` bound (lib/types.js), a little inside Number.MAX_SAFE_INTEGER. */
const MAX_SAFE_LONG = 9007199254740990;
