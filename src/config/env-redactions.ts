import type { EnvSubstitution } from './interpolate.ts';

/**
 * Shortest value scrubbed wherever it appears in a message. Shorter values are scrubbed only where
 * a message quotes them whole: replacing every "1" or "ab" would garble messages and hide nothing.
 */
const MIN_SCRUBBED_LENGTH = 4;

/**
 * What a config file took from the environment, so that messages about the file show its own text
 * (`${NAME}`) instead. Environment values may be secrets: a config message names the variable or
 * the config path, never the value.
 */
export class EnvRedactions {
  /** Environment-derived mapping keys (tenant ids, header names) → the text the file wrote. */
  private readonly keys = new Map<string, string>();
  /** Environment-derived text → what to print instead; longest first, so a value containing another goes whole. */
  private readonly replacements: Array<readonly [string, string]> = [];
  private sorted = true;

  /** Records that the file's `source` text became `value`, through the `fromEnv` substitutions. */
  add(source: string, value: string, fromEnv: readonly EnvSubstitution[], isKey: boolean): void {
    if (fromEnv.length === 0) return;
    if (isKey) this.keys.set(value, source);
    this.replace(value, source);
    for (const { name, value: envValue } of fromEnv) this.replace(envValue, `\${${name}}`);
    this.sorted = false;
  }

  private replace(value: string, replacement: string): void {
    this.replacements.push([value, replacement]);
    // Messages that quote a value JSON-escape it (zod's unknown-key message, formatted paths).
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) this.replacements.push([escaped, JSON.stringify(replacement).slice(1, -1)]);
  }

  /** A mapping key as the file writes it, when it came from the environment; else the key itself. */
  key(value: string): string {
    return this.keys.get(value) ?? value;
  }

  /** `text` with every environment-derived value replaced by the reference that produced it. */
  redact(text: string): string {
    if (!this.sorted) {
      this.replacements.sort((a, b) => b[0].length - a[0].length);
      this.sorted = true;
    }
    let out = text;
    for (const [value, replacement] of this.replacements) {
      if (value.length >= MIN_SCRUBBED_LENGTH) out = out.split(value).join(replacement);
      else out = out.split(JSON.stringify(value)).join(JSON.stringify(replacement));
    }
    return out;
  }
}
