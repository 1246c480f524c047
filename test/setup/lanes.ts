/**
 * The integration files that run beside the unit tests instead of after them (test/vitest.config.ts).
 * vitest runs the unit project before the serial integration project; these wait-bound files
 * overlap it instead, on their own vitest workers, with their own stack (global-stack.ts), so they
 * never meet a file of the serial project. They run at the same time as each other and as unit
 * files, so each one must be isolated: its own pipeline, topics, consumer groups, Redis keys and
 * receivers or label values, no assertion over a whole Prometheus or Redis, no check that a port
 * it freed stays closed (demo-exit stays serial for that). And each must mostly wait, tolerating a
 * busy core beside it: broker-faults (its own broker, down 5 s and 60 s; EO_IDLE_TIMEOUT=10s),
 * sink-isolation (one window a second for 92 s, receivers of its own besides the stack's acme
 * Prometheus, which nothing else here writes to; its bound, normal + 2 s, had 1.6 s to spare in
 * every run), the partials files (3 000 records each, most of the time waiting on the instance),
 * the Kafka client contract (own topics, groups and transactional ids; waits on consumers).
 * Longest first: the sequencer (sequencer.ts) starts them in this order, each on its own worker
 * until one is free for the unit files.
 */
export const BESIDE_UNIT_PROJECT = 'integration-beside-unit';
export const BESIDE_UNIT_FILES = [
  'test/integration/exactly-once-broker-faults.test.ts',
  'test/integration/sink-isolation.test.ts',
  'test/integration/partials-unreadable.test.ts',
  'test/integration/partials-skip.test.ts',
  'test/integration/kafka-client-contract.test.ts',
] as const;
