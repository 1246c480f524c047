import { RE2JS, RE2JSSyntaxException } from 're2js';

/**
 * Regular expressions in pipelines run on RE2 (re2js, a pure-JavaScript port of RE2/J): matching
 * is linear in the input, whatever the pattern. JavaScript's backtracking engine took 386 ms for
 * `(a+)+b` on 27 characters, doubling per character; RE2 takes well under a millisecond. RE2 is
 * also the syntax Prometheus relabelling and CEL's `matches` are specified in, so patterns copied
 * from either behave the same here. Backreferences and lookaround do not exist in RE2 and are
 * refused when the pipeline is loaded.
 */
export type Re2 = RE2JS;

/** A pattern RE2 refuses; the message says why without repeating the pattern. */
export class Re2SyntaxError extends Error {
  constructor(description: string) {
    super(description);
    this.name = 'Re2SyntaxError';
  }
}

export function compileRe2(pattern: string): Re2 {
  try {
    return RE2JS.compile(pattern);
  } catch (error) {
    // The exception's `input` is the offending fragment of the pattern: left out, since a
    // pattern may come from the environment or from a record.
    if (error instanceof RE2JSSyntaxException) throw new Re2SyntaxError(error.error);
    throw new Re2SyntaxError('not a valid RE2 regular expression');
  }
}

/** The reason RE2 refuses `pattern`, or undefined when it compiles. */
export function re2Problem(pattern: string): string | undefined {
  try {
    compileRe2(pattern);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
