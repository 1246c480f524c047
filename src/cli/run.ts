import { ConfigError, type LoadedPipeline } from '../config/load.ts';
import { loadCheckedPipeline } from '../config/startup-check.ts';
import { startPipelines, type RunningPipelines } from '../runtime/process.ts';
import { createLogger } from '../telemetry/logger.ts';

/** Exit code for a pipeline file that cannot be read or used (sysexits' EX_CONFIG), before anything starts. */
export const EXIT_CONFIG = 78;

/**
 * `sluice run`: loads and checks every file first (all or nothing, as `sluice validate` does), then
 * runs until a signal. A config problem prints `file:line:col: path: message` lines and exits 78;
 * a failure while connecting logs one fatal line and exits 1. Neither prints a stack trace.
 */
export async function runCommand(files: readonly string[]): Promise<number> {
  const logger = createLogger();
  const loaded: LoadedPipeline[] = [];
  const problems: string[] = [];
  for (const file of files) {
    try {
      loaded.push(await loadCheckedPipeline(file));
    } catch (error) {
      problems.push(error instanceof ConfigError ? error.message : `${file}: ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) {
    process.stderr.write(`${problems.join('\n')}\n`);
    return EXIT_CONFIG;
  }
  let running: RunningPipelines;
  try {
    running = await startPipelines(loaded, { logger });
  } catch (error) {
    logger.fatal({ error: (error as Error).message }, 'sluice could not start');
    return 1;
  }
  logger.info({ telemetry: running.telemetryUrl }, 'sluice running');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  logger.info('shutting down');
  await running.stop();
  return 0;
}
