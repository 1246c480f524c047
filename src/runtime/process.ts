import type { Logger } from 'pino';
import type { LoadedPipeline } from '../config/load.ts';
import { createSinkMetrics, RemoteWriteSink } from '../sinks/remote-write/index.ts';
import { KafkajsClient } from '../sources/kafka/kafkajs-client.ts';
import { startTelemetryServer } from '../telemetry/http-server.ts';
import { SluiceMetrics } from '../telemetry/metrics.ts';
import { PipelineRunner } from './pipeline.ts';

export interface RunningPipelines {
  readonly telemetryUrl: string;
  readonly metrics: SluiceMetrics;
  readonly runners: readonly PipelineRunner[];
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly logger: Logger;
  /** Overrides the first pipeline's `telemetry.listen`, e.g. `127.0.0.1:0` in tests. */
  readonly telemetryListen?: string;
}

/**
 * Wires what one Sluice process runs: per pipeline a Kafka client, a tenant sink and a runner;
 * one metrics registry and one telemetry endpoint for the process.
 */
export async function startPipelines(pipelines: readonly LoadedPipeline[], options: StartOptions): Promise<RunningPipelines> {
  const { logger } = options;
  const metrics = new SluiceMetrics();
  const events = createSinkMetrics(metrics.registry);
  const parts = pipelines.map((loaded) => {
    const { config } = loaded;
    const kafka = new KafkajsClient({ brokers: config.source.brokers, clientId: config.source.client_id, logger });
    const sink = new RemoteWriteSink(config.tenants, { logger: logger.child({ pipeline: config.name }), events });
    return { kafka, sink, runner: new PipelineRunner(loaded, { kafka, sink, metrics, logger }) };
  });
  const listen = options.telemetryListen ?? pipelines[0]?.config.telemetry.listen ?? '127.0.0.1:9464';
  const server = await startTelemetryServer(listen, metrics.registry, () => parts.every((p) => p.runner.ready));
  try {
    for (const part of parts) await part.runner.start();
  } catch (error) {
    await Promise.allSettled(parts.map((p) => p.kafka.close()));
    await server.close();
    throw error;
  }
  return {
    telemetryUrl: server.url,
    metrics,
    runners: parts.map((p) => p.runner),
    stop: async () => {
      for (const part of parts) {
        await part.runner.stop();
        await part.sink.close();
        await part.kafka.close();
      }
      await server.close();
    },
  };
}
