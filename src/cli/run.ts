import { ConfigError, loadPipelineFile, type LoadedPipeline } from '../config/load.ts';
import { startPipelines } from '../runtime/process.ts';
import { createLogger } from '../telemetry/logger.ts';

/** `sluice run`: loads every file first (all or nothing), then runs until a signal. */
export async function runCommand(files: readonly string[]): Promise<number> {
  const logger = createLogger();
  let loaded: LoadedPipeline[];
  try {
    loaded = await Promise.all(files.map((file) => loadPipelineFile(file)));
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.message : (error as Error).message}\n`);
    return 1;
  }
  const running = await startPipelines(loaded, { logger });
  logger.info({ telemetry: running.telemetryUrl }, 'sluice running');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  logger.info('shutting down');
  await running.stop();
  return 0;
}
