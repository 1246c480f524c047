import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, inject, it } from 'vitest';
import type { Label, Sample } from '../../src/core/types.ts';
import { createSinkMetrics, RemoteWriteSink } from '../../src/sinks/remote-write/index.ts';
import { remoteWriteTenantsSchema as tenantsConfigSchema } from '../../src/sinks/registry.ts';
import { eventually, query } from '../support/receivers/query.ts';

/**
 * max_active_series on real receivers: globex floods new label values and is
 * capped at its limit, the rest folded into otel_metric_overflow="true";
 * initech, written at the same time with the same flood, has no limit and gets
 * every series.
 */
const stack = inject('stack');
const RUN = `lim${Date.now().toString(36)}`;
const LIMIT = 50;
const USERS_PER_WINDOW = 500;
const WINDOWS = 3;
// The overflow series keeps only __name__ (and le), so the run is in the name.
const METRIC = `flood_${RUN}_requests_total`;

describe('remote-write sink: max_active_series on real receivers', () => {
  it('caps a flooding tenant with an overflow series and leaves the other tenant unaffected', async () => {
    const registry = new Registry();
    const sink = new RemoteWriteSink(
      tenantsConfigSchema.parse({
        globex: { endpoint: stack.prometheus.globex!.remoteWriteUrl, limits: { max_active_series: LIMIT }, batch: { max_delay: '50ms' } },
        initech: { endpoint: stack.prometheus.initech!.remoteWriteUrl, batch: { max_delay: '50ms' } },
      }),
      { logger: pino({ level: 'silent' }), events: createSinkMetrics(registry) },
    );
    const start = Math.floor(Date.now() / 1000) * 1000 - WINDOWS * 1000;
    for (let k = 0; k < WINDOWS; k++) {
      const window: Sample[] = [];
      for (let u = 0; u < USERS_PER_WINDOW; u++) {
        const labels: Label[] = [
          { name: '__name__', value: METRIC },
          { name: 'run', value: RUN },
          { name: 'user', value: `u${k * USERS_PER_WINDOW + u}` },
        ];
        window.push({ labels, value: 2, timestampMs: start + k * 1000 });
      }
      sink.write('globex', window);
      sink.write('initech', window);
    }
    await sink.flush();

    const at = (start + WINDOWS * 1000) / 1000;
    const globex = await eventually(
      () => query(stack.prometheus.globex!.url, `count_over_time(${METRIC}[1m])`, at),
      (r) => r.length === LIMIT + 1,
    );
    const overflow = globex.filter((s) => s.metric.otel_metric_overflow === 'true');
    expect(overflow).toHaveLength(1);
    expect(overflow[0]!.metric).toEqual({ otel_metric_overflow: 'true' }); // every label but __name__ replaced
    expect(globex.filter((s) => s.metric.user !== undefined)).toHaveLength(LIMIT);
    // Overflow values: the folded samples of each window summed (2 each).
    const overflowValues = await query(
      stack.prometheus.globex!.url,
      `sum_over_time(${METRIC}{otel_metric_overflow="true"}[1m])`,
      at,
    );
    const folded = WINDOWS * USERS_PER_WINDOW - LIMIT;
    expect(overflowValues.map((s) => s.value)).toEqual([2 * folded]);

    const initech = await eventually(
      () => query(stack.prometheus.initech!.url, `count(count_over_time(${METRIC}[1m]))`, at),
      (r) => r[0]?.value === WINDOWS * USERS_PER_WINDOW,
    );
    expect(initech[0]!.value).toBe(WINDOWS * USERS_PER_WINDOW);
    expect(await query(stack.prometheus.initech!.url, `count(${METRIC}{otel_metric_overflow="true"})`)).toEqual([]);

    const text = await registry.metrics();
    expect(text).toContain(`sluice_remote_write_overflow_samples_total{tenant="globex"} ${folded}`);
    expect(text).toContain(`sluice_remote_write_active_series{tenant="globex"} ${LIMIT}`);
    expect(text).toContain(`sluice_remote_write_active_series{tenant="initech"} ${WINDOWS * USERS_PER_WINDOW}`);
    await sink.close();
  });
});
