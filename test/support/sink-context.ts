import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { SinkContext } from '../../src/sinks/registry.ts';

/** A silent sink context whose `shared` makes each key once, as the runtime's does (sinks share their metrics through it). */
export function sinkContext(): SinkContext {
  const values = new Map<string, unknown>();
  return {
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
    shared: <T>(key: string, make: () => T) => {
      if (!values.has(key)) values.set(key, make());
      return values.get(key) as T;
    },
  };
}
