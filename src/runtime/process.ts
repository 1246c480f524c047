import type { Logger } from 'pino';
import type { LoadedPipeline } from '../config/load.ts';
import { createPipelineSink, type SinkContext } from '../sinks/registry.ts';
import { KafkajsClient } from '../sources/kafka/kafkajs-client.ts';
import { startTelemetryServer } from '../telemetry/http-server.ts';
import { SluiceMetrics } from '../telemetry/metrics.ts';
import { PipelineRunner } from './pipeline.ts';

export interface RunningPipelines {
  readonly telemetryUrl: string;
  readonly metrics: SluiceMetrics;
  readonly runners: readonly PipelineRunner[];
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

/**
 * Wires what one Sluice process runs: per pipeline a Kafka client, a tenant sink and a runner;
 * one metrics registry and one telemetry endpoint for the process.
 */
export async function startPipelines(pipelines: readonly LoadedPipeline[], options: StartOptions): Promise<RunningPipelines> {
  const { logger } = options;
  const metrics = new SluiceMetrics();
  // One value per key for the process: a sink type's metrics are registered once, however many pipelines use it.
  const sharedValues = new Map<string, unknown>();
  const shared = <T>(key: string, make: () => T): T => {
    if (!sharedValues.has(key)) sharedValues.set(key, make());
    return sharedValues.get(key) as T;
  };
  const parts = pipelines.map((loaded) => {
    const { config } = loaded;
    const kafka = new KafkajsClient({ brokers: config.source.brokers, clientId: config.source.client_id, logger });
    const context: SinkContext = { logger: logger.child({ pipeline: config.name }), registry: metrics.registry, shared };
    const sink = createPipelineSink(config.tenants, context);
    return { kafka, sink, runner: new PipelineRunner(loaded, { kafka, sink, metrics, logger }) };
  });
  const listen = options.telemetryListen ?? pipelines[0]?.config.telemetry.listen ?? '127.0.0.1:9464';
  let stopping = false;
  const server = await startTelemetryServer(listen, metrics.registry, () => !stopping && parts.every((p) => p.runner.ready), { pipelines });
  const stop = async (deliveryDeadline?: AbortSignal): Promise<void> => {
    stopping = true;
    await Promise.all(
      parts.map(async ({ runner, sink, kafka }) => {
        const log = logger.child({ pipeline: runner.name });
        await closeLogged(log, 'pipeline', () => runner.stop());
        await Promise.all([closeLogged(log, 'sink', () => sink.close(deliveryDeadline)), closeLogged(log, 'kafka', () => kafka.close())]);
      }),
    );
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
  return {
    telemetryUrl: server.url,
    metrics,
    runners: parts.map((p) => p.runner),
    stop,
  };
}

/** Runs one close step; a failure is logged and does not keep the other clients open. */
async function closeLogged(log: Logger, what: string, close: () => Promise<void>): Promise<void> {
  try {
    await close();
  } catch (error) {
    log.error({ err: error }, `${what} did not close cleanly`);
  }
}
