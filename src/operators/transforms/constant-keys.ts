/**
 * The own keys of one pipeline constant (`prices`), numbered, for the lookups compiled CEL folds
 * into it (`model in prices`, `prices[model].input`, cel-compiler.ts). The lookups of one record
 * ask for the same key, mostly the same string object (the record's `model`): the last key's
 * number is kept, so a record pays one hash lookup however many lookups it makes (the gateway's
 * `cost` makes four) and a string compare for the others. The record's string is fresh from
 * the decoder, so that one lookup also hashes it.
 */
export class ConstantKeys {
  /** The constant's own property names, in the order of their numbers. */
  readonly names: readonly string[];
  private readonly numbers: ReadonlyMap<string, number>;
  private lastKey: string | undefined = undefined;
  private lastNumber = -1;

  constructor(constant: object) {
    this.names = Object.getOwnPropertyNames(constant);
    this.numbers = new Map(this.names.map((name, number) => [name, number]));
  }

  /** The number of own key `key`, or -1 when the constant has no such key. */
  numberOf(key: string): number {
    if (key === this.lastKey) return this.lastNumber;
    const number = this.numbers.get(key) ?? -1;
    this.lastKey = key;
    this.lastNumber = number;
    return number;
  }
}

/** One numbering per constant object, shared by every expression that looks keys up in it. */
const keysOf = new WeakMap<object, ConstantKeys>();

export function constantKeys(constant: object): ConstantKeys {
  let keys = keysOf.get(constant);
  if (keys === undefined) keysOf.set(constant, (keys = new ConstantKeys(constant)));
  return keys;
}
