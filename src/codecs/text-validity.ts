import { isUtf8 } from 'node:buffer';

/**
 * The one rule every codec applies to text: bytes must be well-formed UTF-8 (RFC 3629: no
 * overlong forms, no encoded surrogates U+D800–U+DFFF, nothing above U+10FFFF), and a string
 * that arrives already decoded (a JS string header, a JSON `\ud800` escape) must not hold a
 * lone surrogate. Such text is refused, never repaired with U+FFFD: a label value that
 * silently changed would be a different series at the receiver.
 */
export function isWellFormedUtf8(bytes: Uint8Array): boolean {
  // Native and exact: rejects ED A0..BF (surrogates) and overlongs, which Buffer#toString would
  // turn into U+FFFD.
  return isUtf8(bytes);
}

/** A JS string without lone surrogates (what `isWellFormed` checks; kept here so codecs share one name). */
export function isWellFormedString(text: string): boolean {
  return (text as WellFormedCheckable).isWellFormed();
}

// String#isWellFormed is in Node 20 (V8 11) but in TypeScript's ES2024 lib, not the ES2023 one we compile against.
type WellFormedCheckable = string & { isWellFormed(): boolean };
