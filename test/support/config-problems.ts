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
