import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isScalar, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { pipelineSchema, type PipelineConfig } from './schema.ts';
import { interpolateEnv } from './interpolate.ts';

/** A loaded, validated pipeline and where it came from (relative paths resolve against `baseDir`). */
export interface LoadedPipeline {
  readonly file: string;
  readonly baseDir: string;
  readonly config: PipelineConfig;
}

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

/** `['metrics', 1, 'buckets']` → `metrics[1].buckets`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

export async function loadPipelineFile(file: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadedPipeline> {
  const text = await readFile(file, 'utf8');
  return parsePipeline(text, file, env);
}

/**
 * Parses and validates one pipeline document. Environment references (`${VAR}`, `${VAR:-default}`)
 * are resolved per scalar after parsing, so every reported line and column is the file's own.
 */
export function parsePipeline(text: string, file: string, env: NodeJS.ProcessEnv = process.env): LoadedPipeline {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => lineCounter.linePos(offset);

  const problems: ConfigProblem[] = doc.errors.map((error) => {
    const { line, col } = at(error.pos[0]);
    return { file, line, col, path: '', message: error.message.split('\n')[0]! };
  });
  if (problems.length > 0) throw new ConfigError(problems);

  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value !== 'string' || !node.value.includes('$')) return;
      const result = interpolateEnv(node.value, env);
      if (result.ok) {
        node.value = result.value;
      } else {
        const { line, col } = at(node.range?.[0] ?? 0);
        problems.push({ file, line, col, path: '', message: result.error });
      }
    },
  });
  if (problems.length > 0) throw new ConfigError(problems);

  const parsed = pipelineSchema.safeParse(doc.toJS());
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => locateIssue(doc, issue, file, at)));
  return { file, baseDir: dirname(resolve(file)), config: parsed.data };
}

/** Points an issue at the deepest node of its path that exists in the document. */
function locateIssue(
  doc: Document,
  issue: z.core.$ZodIssue,
  file: string,
  at: (offset: number) => { line: number; col: number },
): ConfigProblem {
  const path = issue.path as PropertyKey[];
  if (issue.code === 'unrecognized_keys') {
    // Point at the first unknown key itself, not at the mapping that holds it.
    const keyPath = [...path, issue.keys[0]!];
    const offset = keyOffset(doc, keyPath);
    if (offset !== undefined) {
      const { line, col } = at(offset);
      return { file, line, col, path: formatPath(path), message: issue.message };
    }
  }
  let offset = 0;
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true);
    if (node && typeof node === 'object' && 'range' in node && Array.isArray(node.range)) {
      offset = node.range[0] as number;
      // For an unknown or missing key, point at the key itself when we can.
      if (depth < path.length && !isScalar(node)) offset = keyOffset(doc, path.slice(0, depth + 1)) ?? offset;
      break;
    }
  }
  const { line, col } = at(offset);
  return { file, line, col, path: formatPath(path), message: issue.message };
}

function keyOffset(doc: Document, path: readonly PropertyKey[]): number | undefined {
  const parent = doc.getIn(path.slice(0, -1), true) as { items?: Array<{ key?: { value?: unknown; range?: number[] } }> };
  const last = path[path.length - 1];
  const pair = parent?.items?.find((item) => item.key?.value === last);
  return pair?.key?.range?.[0];
}
