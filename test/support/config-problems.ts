import { ConfigError, parsePipeline } from '../../src/config/load.ts';

/** The problems a pipeline file's text is refused with, a line each (`p.yaml:line:col: ...`); none when it loads. */
export function configProblems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parsePipeline(text, 'p.yaml', env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  return [];
}

/** The 1-based line of `text` that first contains `needle` (0 when none does), for the `line` of a problem. */
export function lineOf(text: string, needle: string): number {
  return text.split('\n').findIndex((line) => line.includes(needle)) + 1;
}
