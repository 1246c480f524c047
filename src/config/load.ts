import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isScalar, LineCounter, parseDocument, visit, type Scalar } from 'yaml';
import type { z } from 'zod';
import { EnvRedactions } from './env-redactions.ts';
import { interpolateEnv } from './interpolate.ts';
import { pipelineSchema, type PipelineConfig } from './schema.ts';
import { ConfigError, ConfigSource, type ConfigProblem } from './source.ts';

export { ConfigError, ConfigSource, formatPath, formatProblem, type ConfigProblem } from './source.ts';

/** A loaded, validated pipeline and where it came from (relative paths resolve against `baseDir`). */
export interface LoadedPipeline {
  readonly file: string;
  readonly baseDir: string;
  readonly config: PipelineConfig;
  /** The parsed file, to locate problems found after loading; absent for a config built in code. */
  readonly source?: ConfigSource;
}

export async function loadPipelineFile(file: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadedPipeline> {
  const text = await readFile(file, 'utf8');
  return parsePipeline(text, file, env);
}

/**
 * Parses and validates one pipeline document. Environment references (`${VAR}`, `${VAR:-default}`)
 * are resolved per scalar after parsing, so every reported line and column is the file's own, and
 * what came from the environment is remembered so no message prints it.
 */
export function parsePipeline(text: string, file: string, env: NodeJS.ProcessEnv = process.env): LoadedPipeline {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const redactions = new EnvRedactions();
  const source = new ConfigSource(file, doc, lineCounter, redactions);

  const problems: ConfigProblem[] = doc.errors.map((error) => source.problem([], error.message.split('\n')[0]!, error.pos[0]));
  if (problems.length > 0) throw new ConfigError(problems);

  visit(doc, {
    Scalar(key, node) {
      if (typeof node.value !== 'string' || !node.value.includes('$')) return;
      const result = interpolateEnv(node.value, env);
      if (result.ok) {
        redactions.add(node.value, result.value, result.fromEnv, key === 'key');
        node.value = result.value;
      } else {
        problems.push(source.problem([], result.error, node.range?.[0] ?? 0));
      }
    },
  });
  // The parser refused duplicate keys as written; interpolated keys (tenant ids) may still collide.
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<unknown>();
      for (const { key } of map.items) {
        const value = isScalar(key) ? key.value : key;
        if (seen.has(value)) problems.push(source.problem([], 'this key repeats an earlier key of its mapping once the environment is interpolated', (key as Scalar).range?.[0] ?? 0));
        seen.add(value);
      }
    },
  });
  if (problems.length > 0) throw new ConfigError(problems);

  const parsed = pipelineSchema.safeParse(doc.toJS());
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => locateIssue(source, issue)));
  return { file, baseDir: dirname(resolve(file)), config: parsed.data, source };
}

function locateIssue(source: ConfigSource, issue: z.core.$ZodIssue): ConfigProblem {
  const path = issue.path as PropertyKey[];
  if (issue.code === 'unrecognized_keys') {
    // Point at the first unknown key itself, not at the mapping that holds it.
    const offset = source.keyOffset([...path, issue.keys[0]!]);
    if (offset !== undefined) return source.problem(path, issue.message, offset);
  }
  return source.problem(path, issue.message);
}
