import { ConfigError, loadPipelineFile, type LoadedPipeline } from '../config/load.ts';
import { startPipelines, type RunningPipelines } from '../runtime/process.ts';
import { createLogger } from '../telemetry/logger.ts';
import { ShutdownSignals } from './shutdown.ts';

/**
 * `sluice run`: loads every file first (all or nothing), then runs until SIGINT or SIGTERM, and
 * exits 0 once every client is closed (see ShutdownSignals for the time bound). A signal during
 * start stops what has started and exits 0 as well.
 */
export async function runCommand(files: readonly string[]): Promise<number> {
  const logger = createLogger();
  let loaded: LoadedPipeline[];
  try {
    loaded = await Promise.all(files.map((file) => loadPipelineFile(file)));
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.message : (error as Error).message}\n`);
    return 1;
  }
  const shutdown = new ShutdownSignals(logger);
  let running: RunningPipelines;
  try {
    running = await startPipelines(loaded, { logger, signal: shutdown.signal });
  } catch (error) {
    if (!shutdown.requested) throw error;
    shutdown.finished();
    return 0;
  }
  logger.info({ telemetry: running.telemetryUrl }, 'sluice running');
  await shutdown.untilRequested();
  await running.stop(shutdown.deliveryDeadline());
  shutdown.finished();
  return 0;
}
