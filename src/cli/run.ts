import { ConfigError, type LoadedPipeline } from '../config/load.ts';
import { loadCheckedPipeline } from '../config/startup-check.ts';
import { watchConfigFiles } from '../config/watch.ts';
import { startPipelines, type RunningPipelines } from '../runtime/process.ts';
import { Reloader, type ReloadTrigger } from '../runtime/reloader.ts';
import { createLogger } from '../telemetry/logger.ts';
import { ShutdownSignals } from './shutdown.ts';

/** Exit code for a pipeline file that cannot be read or used (sysexits' EX_CONFIG), before anything starts. */
export const EXIT_CONFIG = 78;

/**
 * `sluice run`: loads and checks every file first (all or nothing, as `sluice validate` does), then
 * runs until a signal. A config problem prints `file:line:col: path: message` lines and exits 78;
 * a failure while connecting logs one fatal line and exits 1. Neither prints a stack trace.
 * SIGINT or SIGTERM closes every client and exits 0 (see ShutdownSignals for the time bound); a
 * signal during start stops what has started and exits 0 as well.
 *
 * While running, SIGHUP, a change of a pipeline file and POST /-/reload re-read the files (and
 * the tenant registries): see Reloader and RunningPipelines.apply.
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
  const shutdown = new ShutdownSignals(logger);
  const reloader = new Reloader(files, logger);
  let running: RunningPipelines;
  try {
    running = await startPipelines(await reloader.initial(loaded), { logger, signal: shutdown.signal });
  } catch (error) {
    await reloader.close();
    if (shutdown.requested) {
      shutdown.finished();
      return 0;
    }
    logger.fatal({ error: (error as Error).message }, 'sluice could not start');
    shutdown.finished();
    return 1;
  }
  logger.info({ telemetry: running.telemetryUrl }, 'sluice running');
  reloader.attach(running);
  const reload = (trigger: ReloadTrigger) => void reloader.reload(trigger);
  const onHangup = () => reload('sighup');
  process.on('SIGHUP', onHangup);
  const watcher = watchConfigFiles(files, () => reload('file'));
  await shutdown.untilRequested();
  process.off('SIGHUP', onHangup);
  watcher.close();
  await reloader.close();
  await running.stop(shutdown.deliveryDeadline());
  shutdown.finished();
  return 0;
}
