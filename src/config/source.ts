import { isScalar, type Document, type LineCounter } from 'yaml';
import type { EnvRedactions } from './env-redactions.ts';

/** One problem in a config file, located as `file:line:col` and by its path in the document. */
export interface ConfigProblem {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly path: string;
  readonly message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.path ? `${p.path}: ` : ''}${p.message}`;
}

/** `['metrics', 1, 'buckets']` → `metrics[1].buckets`; `show` renders each key (default: as it is). */
export function formatPath(path: readonly PropertyKey[], show: (key: string) => string = (key) => key): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') {
      out += `[${key}]`;
      continue;
    }
    const shown = show(String(key));
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(shown)) out += out ? `.${shown}` : shown;
    else out += `[${JSON.stringify(shown)}]`;
  }
  return out;
}

/**
 * A parsed pipeline file, kept after loading so problems found later (by what start-up builds
 * from the config: codecs, expressions, tenant secrets) point at `file:line:col` like schema
 * problems do. Every problem it makes is redacted: environment-derived values are shown as the
 * `${NAME}` reference the file wrote.
 */
export class ConfigSource {
  constructor(
    readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly env: EnvRedactions,
  ) {}

  /** A problem at `path`: at the deepest node of it that exists in the document, unless `offset` says where. */
  problem(path: readonly PropertyKey[], message: string, offset: number = this.offsetOf(path)): ConfigProblem {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, col, path: formatPath(path, (key) => this.env.key(key)), message: this.env.redact(message) };
  }

  /** `text` without environment-derived values, for anything else printed about this file. */
  redact(text: string): string {
    return this.env.redact(text);
  }

  /** The key itself for a path that names a key (unknown keys), else the node or the key that should hold it. */
  keyOffset(path: readonly PropertyKey[]): number | undefined {
    const parent = this.doc.getIn(path.slice(0, -1), true) as { items?: Array<{ key?: { value?: unknown; range?: number[] } }> };
    const last = path[path.length - 1];
    const pair = parent?.items?.find((item) => item.key?.value === last);
    return pair?.key?.range?.[0];
  }

  private offsetOf(path: readonly PropertyKey[]): number {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = this.doc.getIn(path.slice(0, depth), true);
      if (node && typeof node === 'object' && 'range' in node && Array.isArray(node.range)) {
        // For an unknown or missing key, point at the key itself when we can.
        if (depth < path.length && !isScalar(node)) return this.keyOffset(path.slice(0, depth + 1)) ?? (node.range[0] as number);
        return node.range[0] as number;
      }
    }
    return 0;
  }
}
