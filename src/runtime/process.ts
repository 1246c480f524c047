import type { Logger } from 'pino';
import { decideReload, type ReloadDecision } from '../config/compat.ts';
import type { LoadedPipeline } from '../config/load.ts';
import type { SinkContext } from '../sinks/registry.ts';
import { KafkajsClient } from '../sources/kafka/kafkajs-client.ts';
import type { CheckpointStore } from '../state/checkpoint-store.ts';
import { startTelemetryServer, type ReloadAnswer } from '../telemetry/http-server.ts';
import { SluiceMetrics } from '../telemetry/metrics.ts';
import { boundOldGenerationGrowth } from './heap-growth.ts';
import { openCheckpointStore, PipelineRunner } from './pipeline.ts';
import { TenantSinks } from './tenant-sinks.ts';

export interface RunningPipelines {
  readonly telemetryUrl: string;
  readonly metrics: SluiceMetrics;
  readonly runners: readonly PipelineRunner[];
  /** The configs running now (after the last successful reload). */
  readonly pipelines: readonly LoadedPipeline[];
  /**
   * Replaces the running configs by `next` (same pipelines, by name and order), all or nothing:
   * refused, with the reasons, if any pipeline's change is incompatible or cannot be built.
   */
  apply(next: readonly LoadedPipeline[]): Promise<ApplyOutcome>;
  /** Where POST /-/reload goes (set by whoever reads the files: `sluice run`). */
  onReloadRequest(handler: () => Promise<ReloadAnswer>): void;
  /**
   * Stops every pipeline (stage 1 commits, stage 2 checkpoints), then closes every client: sink
   * senders, Kafka consumers, producers and admin, Redis, the telemetry server. When
   * `deliveryDeadline` fires, the sinks give up on samples not yet acknowledged: they are in the
   * last checkpoint's outbox and are sent again on the next start. Never rejects; what fails to
   * close is logged.
   */
  stop(deliveryDeadline?: AbortSignal): Promise<void>;
}

export interface StartOptions {
  readonly logger: Logger;
  /** Overrides the first pipeline's `telemetry.listen`, e.g. `127.0.0.1:0` in tests. */
  readonly telemetryListen?: string;
  /** Aborts a start in progress (a shutdown signal during start): what started is stopped again. */
  readonly signal?: AbortSignal;
}

/** What a reload did: nothing (unchanged), applied (live and / or rebuilt), or refused with reasons. */
export type ApplyOutcome =
  | { readonly result: 'unchanged' }
  | { readonly result: 'applied'; readonly live: readonly string[]; readonly rebuilt: readonly string[] }
  | { readonly result: 'refused'; readonly reasons: readonly string[] };

/** Everything one pipeline runs on, replaced piece by piece by reloads. */
interface Part {
  loaded: LoadedPipeline;
  runner: PipelineRunner;
  readonly kafka: KafkajsClient;
  readonly sink: TenantSinks;
  /** Owned by the process so a rebuild keeps the state (the memory store is the only copy). */
  readonly store: CheckpointStore;
}

/**
 * Wires what one Sluice process runs: per pipeline a Kafka client, a tenant sink and a runner;
 * one metrics registry and one telemetry endpoint for the process.
 */
export async function startPipelines(pipelines: readonly LoadedPipeline[], options: StartOptions): Promise<RunningPipelines> {
  const { logger } = options;
  // Process-wide, so here where the process's pipelines start: the old space near live, not ~2× it (issue 12's peak RSS).
  boundOldGenerationGrowth();
  const metrics = new SluiceMetrics();
  // One value per key for the process: a sink type's metrics are registered once, however many pipelines use it.
  const sharedValues = new Map<string, unknown>();
  const shared = <T>(key: string, make: () => T): T => {
    if (!sharedValues.has(key)) sharedValues.set(key, make());
    return sharedValues.get(key) as T;
  };
  const parts = pipelines.map((loaded): Part => {
    const { config } = loaded;
    const kafka = new KafkajsClient({ brokers: config.source.brokers, clientId: config.source.client_id, logger });
    const log = logger.child({ pipeline: config.name });
    const context: SinkContext = { logger: log, registry: metrics.registry, shared };
    const dropped = (tenant: string, points: number) => metrics.removedTenantPoints.inc({ pipeline: config.name, tenant }, points);
    const sink = new TenantSinks(config.tenants, context, dropped, log);
    const store = openCheckpointStore(config);
    return { loaded, kafka, sink, store, runner: new PipelineRunner(loaded, { kafka, sink, metrics, logger, store }) };
  });
  const listen = options.telemetryListen ?? pipelines[0]?.config.telemetry.listen ?? '127.0.0.1:9464';
  if (options.telemetryListen === undefined) {
    for (const unserved of unservedTelemetry(pipelines, listen)) {
      logger.warn({ ...unserved, served: listen }, "this pipeline's telemetry.listen is not served: one process serves the first pipeline file's address for all of them");
    }
  }
  let stopping = false;
  let reloadHandler: (() => Promise<ReloadAnswer>) | undefined;
  const server = await startTelemetryServer(listen, metrics.registry, () => !stopping && parts.every((p) => p.runner.ready), {
    pipelines,
    reload: () => (reloadHandler ? reloadHandler() : Promise.resolve({ ok: false, result: 'unavailable', reasons: ['this process does not reload'] })),
  });
  let reloading: Promise<unknown> = Promise.resolve();
  const stop = async (deliveryDeadline?: AbortSignal): Promise<void> => {
    stopping = true;
    await reloading; // a rebuild in progress finishes starting its runner, which is then stopped here
    await Promise.all(
      parts.map(async ({ runner, sink, kafka }) => {
        const log = logger.child({ pipeline: runner.name });
        await closeLogged(log, 'pipeline', () => runner.stop());
        await Promise.all([closeLogged(log, 'sink', () => sink.close(deliveryDeadline)), closeLogged(log, 'kafka', () => kafka.close())]);
      }),
    );
    await Promise.all(parts.map(({ store, runner }) => closeLogged(logger.child({ pipeline: runner.name }), 'state store', () => store.close())));
    await closeLogged(logger, 'telemetry server', () => server.close());
  };
  try {
    for (const part of parts) {
      options.signal?.throwIfAborted();
      await part.runner.start(options.signal);
    }
    options.signal?.throwIfAborted();
  } catch (error) {
    // Little can be queued yet: a short grace, then the outbox of the last checkpoint holds it.
    await stop(AbortSignal.timeout(1_000));
    throw error;
  }
  const apply = serialise(async (next: readonly LoadedPipeline[]): Promise<ApplyOutcome> => {
    const outcome = await applyReload(parts, next, { metrics, logger, stopping: () => stopping });
    if (outcome.result === 'applied') server.update(parts.map((p) => p.loaded));
    return outcome;
  });
  return {
    telemetryUrl: server.url,
    metrics,
    get runners() {
      return parts.map((p) => p.runner);
    },
    get pipelines() {
      return parts.map((p) => p.loaded);
    },
    apply: (next) => {
      const outcome = apply(next);
      reloading = outcome.catch(() => {});
      return outcome;
    },
    onReloadRequest: (handler) => {
      reloadHandler = handler;
    },
    stop,
  };
}

/**
 * Applies `next` to the running parts, all or nothing: every pipeline's change is decided first
 * (config/compat), then everything a live change needs is built (sinks, ingest), and only when all
 * of that succeeded is anything swapped in. A rebuild (stages stopped and started again on the
 * same store and sinks) comes last.
 */
async function applyReload(parts: Part[], next: readonly LoadedPipeline[], env: { metrics: SluiceMetrics; logger: Logger; stopping: () => boolean }): Promise<ApplyOutcome> {
  if (env.stopping()) return { result: 'refused', reasons: ['sluice is stopping'] };
  const names = parts.map((p) => p.loaded.config.name);
  const nextNames = next.map((l) => l.config.name);
  if (names.join('\n') !== nextNames.join('\n')) {
    return { result: 'refused', reasons: [`the pipelines would change from [${names.join(', ')}] to [${nextNames.join(', ')}]; adding or removing a pipeline needs a restart`] };
  }
  const decisions = parts.map((part, i) => ({ part, loaded: next[i]!, decision: decideReload(part.loaded.config, next[i]!.config) }));
  const refused = decisions.flatMap(({ part, decision }) => decision.refused.map((reason) => `${part.loaded.file}: ${reason}`));
  if (refused.length > 0) return { result: 'refused', reasons: refused };
  if (decisions.every(({ decision }) => isEmpty(decision))) return { result: 'unchanged' };

  const commits: (() => void)[] = [];
  const discards: (() => void)[] = [];
  try {
    for (const { part, loaded, decision } of decisions) {
      if (isEmpty(decision)) continue;
      const tenants = part.sink.prepare(loaded.config.tenants);
      discards.push(() => tenants.discard());
      commits.push(tenants.commit, part.runner.prepareLive(loaded));
    }
  } catch (error) {
    for (const discard of discards) discard();
    return { result: 'refused', reasons: [firstLine(error)] };
  }
  for (const commit of commits) commit();
  for (const { part, loaded } of decisions) part.loaded = loaded;

  const rebuilt: string[] = [];
  for (const { part, loaded, decision } of decisions) {
    if (decision.rebuild.length === 0) continue;
    const failure = await rebuild(part, loaded, env);
    // Started again, on a config that validated and was built: a failure here is the broker's or the state backend's.
    if (failure !== undefined) return { result: 'refused', reasons: [`${loaded.file}: the stages did not start again (${failure}); the tenant changes are applied`] };
    rebuilt.push(...decision.rebuild.map((reason) => `${loaded.file}: ${reason}`));
  }
  const live = decisions.flatMap(({ part, decision }) => decision.live.map((path) => `${part.loaded.file}: ${path}`));
  return { result: 'applied', live, rebuilt };
}

/**
 * Stops a pipeline's stages (stage 1 commits, stage 2 checkpoints) and starts them on `loaded`, on
 * the same sinks and store. Returns why it could not start, if it could not.
 */
async function rebuild(part: Part, loaded: LoadedPipeline, env: { metrics: SluiceMetrics; logger: Logger }): Promise<string | undefined> {
  const log = env.logger.child({ pipeline: loaded.config.name });
  log.info('rebuilding the pipeline stages for the new config; state continues from the checkpoint');
  await closeLogged(log, 'pipeline', () => part.runner.stop());
  const deps = { kafka: part.kafka, sink: part.sink, metrics: env.metrics, logger: env.logger, store: part.store };
  part.runner = new PipelineRunner(loaded, deps);
  try {
    await part.runner.start();
    return undefined;
  } catch (error) {
    log.error({ error: firstLine(error) }, 'the pipeline stages did not start again after a reload');
    return firstLine(error);
  }
}

function isEmpty(decision: ReloadDecision): boolean {
  return decision.live.length === 0 && decision.rebuild.length === 0 && decision.refused.length === 0;
}

/** One reload at a time: a trigger during a reload waits for it, then reads the config again itself. */
function serialise<A extends unknown[], R>(run: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  let last: Promise<unknown> = Promise.resolve();
  return (...args) => {
    const next = last.then(() => run(...args));
    last = next.catch(() => {});
    return next;
  };
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0]!;
}

/** Runs one close step; a failure is logged and does not keep the other clients open. */
async function closeLogged(log: Logger, what: string, close: () => Promise<void>): Promise<void> {
  try {
    await close();
  } catch (error) {
    log.error({ err: error }, `${what} did not close cleanly`);
  }
}

/**
 * The pipelines whose own `telemetry.listen` differs from the address served: one process runs one
 * telemetry server (the first file's), and another file's address would otherwise go unserved
 * without a word.
 */
export function unservedTelemetry(pipelines: readonly LoadedPipeline[], served: string): { pipeline: string; listen: string }[] {
  return pipelines
    .slice(1)
    .filter(({ config }) => config.telemetry.listen !== served)
    .map(({ config }) => ({ pipeline: config.name, listen: config.telemetry.listen }));
}
