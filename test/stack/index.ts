// The local real stack: Kafka (KRaft, from Maven jars), Redis and one
// Prometheus per tenant on free loopback ports, for integration tests, the
// demo and the benchmark. See stack.ts for the lifecycle, cli.ts for the
// command line (`npm run stack -- up|down|status|fetch-jars`).

import type { Stack, StackInfo } from './types.ts';

export type { Stack, StackInfo, StackOptions, StackRedis, TenantPrometheus } from './types.ts';
export { defaultRunDir, startStack, stopStack } from './stack.ts';
export { ensureKafkaJars, KAFKA_VERSION, kafkaLibsDir, sluiceCacheDir } from './kafka-jars.ts';
export { startKafka, kafkaReady, type KafkaHandle, type KafkaOptions } from './kafka.ts';
export { startRedis, redisHandle, redisReady, type RedisHandle, type RedisOptions } from './redis.ts';
export { startPrometheus, prometheusReady, type PrometheusHandle, type PrometheusOptions } from './prometheus.ts';
export { ensurePrometheus3, prometheus3Binary, startPrometheus3, PROMETHEUS3_MODULE_VERSION, type Prometheus3Options } from './prometheus3.ts';
export { queryInstant, type InstantSample } from './prometheus-query.ts';
export { MissingBinaryError, freePort, freePorts } from './process.ts';

/** The tenants the integration-test stack (test/setup/global-stack.ts) runs a Prometheus for. */
export const TEST_TENANTS = ['acme', 'globex', 'initech'] as const;

/**
 * The JSON-serializable part of a Stack, as handed to tests through
 * vitest's provide/inject. Requires a stack started with Redis.
 */
export function toStackInfo(stack: Stack): StackInfo {
  if (!stack.redis) throw new Error('toStackInfo: the stack was started without Redis');
  const logs: Record<string, string> = { kafka: stack.kafka.logFile, redis: stack.redis.logFile };
  for (const p of Object.values(stack.prometheus)) logs[`prometheus-${p.tenant}`] = p.logFile;
  return {
    runDir: stack.runDir,
    brokers: [...stack.kafka.brokers],
    kafkaVersion: stack.kafka.version,
    redisUrl: stack.redis.url,
    prometheus: structuredClone(stack.prometheus),
    logs,
  };
}
