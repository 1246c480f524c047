import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { MetricPoint } from '../core/metric-model.ts';
import { createPipelineSink, type BuiltSink, type SinkContext, type TenantsConfig } from '../sinks/registry.ts';

/** How long a replaced or removed tenant's sink may take to deliver what it had queued. */
export const DRAIN_MS = 30_000;

interface Route {
  readonly config: unknown;
  readonly sink: BuiltSink;
}

/** One immutable generation of routes: swapped whole, so a write sees either the old or the new tenants, never a mix. */
interface Routes {
  readonly byTenant: ReadonlyMap<string, Route>;
  readonly fallback: Route | undefined;
}

/** A reload prepared (every new sink built), not applied yet: `commit` swaps it in, `discard` drops it. */
export interface PreparedTenants {
  commit(): void;
  discard(): void;
}

/**
 * A pipeline's tenant sinks, one sink per tenant (and one for the default route), so that a reload
 * replaces exactly the tenants it changes: every other tenant keeps its sink, queue and connection,
 * with no gap. A replaced or removed tenant's old sink drains what it had queued (to its old
 * endpoint, for up to DRAIN_MS), as Vector and the Collector drain a removed sink on reload.
 * Points that stage 2 emits later for a tenant no longer configured (its windows still open, its
 * counters still held, so they resume if it comes back) are dropped, settled at once and counted.
 */
export class TenantSinks implements BuiltSink {
  private routes: Routes;
  private readonly draining = new Set<Promise<void>>();
  private closed = false;

  constructor(
    section: TenantsConfig,
    private readonly context: SinkContext,
    private readonly onDropped: (tenant: string, points: number) => void,
    private readonly log: Logger,
  ) {
    this.routes = this.build(section, { byTenant: new Map(), fallback: undefined }).routes;
  }

  /** Tenant ids with a sink of their own now. */
  get tenants(): string[] {
    return [...this.routes.byTenant.keys()];
  }

  write(tenant: string, points: readonly MetricPoint[], onSettled?: () => void): void {
    const route = this.routes.byTenant.get(tenant) ?? this.routes.fallback;
    if (route === undefined) {
      this.onDropped(tenant, points.length);
      onSettled?.();
      return;
    }
    route.sink.write(tenant, points, onSettled);
  }

  expedite(tenant: string): void {
    (this.routes.byTenant.get(tenant) ?? this.routes.fallback)?.sink.expedite?.(tenant);
  }

  /**
   * Builds the sinks `section` needs beyond the running ones (throws, with nothing changed, if one
   * cannot be built); the swap happens at `commit`.
   */
  prepare(section: TenantsConfig): PreparedTenants {
    const previous = this.routes;
    const { routes, built } = this.build(section, previous);
    return {
      commit: () => {
        if (this.routes !== previous) throw new Error('tenant sinks changed since this reload was prepared');
        this.routes = routes;
        const kept = new Set<BuiltSink>([...routes.byTenant.values()].map((r) => r.sink));
        if (routes.fallback) kept.add(routes.fallback.sink);
        const retired = new Set<BuiltSink>([...previous.byTenant.values()].map((r) => r.sink));
        if (previous.fallback) retired.add(previous.fallback.sink);
        for (const sink of retired) if (!kept.has(sink)) this.drain(sink);
      },
      discard: () => {
        for (const sink of built) void sink.close(AbortSignal.abort()).catch(() => {});
      },
    };
  }

  private build(section: TenantsConfig, previous: Routes): { routes: Routes; built: BuiltSink[] } {
    const built: BuiltSink[] = [];
    const reuse = (before: Route | undefined, config: unknown, make: () => BuiltSink): Route => {
      if (before !== undefined && isDeepStrictEqual(before.config, config)) return before;
      const sink = make();
      built.push(sink);
      return { config, sink };
    };
    try {
      const byTenant = new Map<string, Route>();
      for (const [id, tenant] of Object.entries(section.tenants)) {
        byTenant.set(id, reuse(previous.byTenant.get(id), tenant, () => createPipelineSink({ tenants: { [id]: tenant }, default_route: undefined }, this.context)));
      }
      const route = section.default_route;
      const fallback = route === undefined ? undefined : reuse(previous.fallback, route, () => createPipelineSink({ tenants: {}, default_route: route }, this.context));
      return { routes: { byTenant, fallback }, built };
    } catch (error) {
      for (const sink of built) void sink.close(AbortSignal.abort()).catch(() => {});
      throw error;
    }
  }

  private drain(sink: BuiltSink): void {
    const done = sink
      .close(AbortSignal.timeout(DRAIN_MS))
      .catch((error: unknown) => this.log.warn({ err: error }, 'a replaced tenant sink did not drain cleanly'))
      .finally(() => this.draining.delete(done));
    this.draining.add(done);
  }

  private all(): BuiltSink[] {
    const sinks = new Set<BuiltSink>([...this.routes.byTenant.values()].map((r) => r.sink));
    if (this.routes.fallback) sinks.add(this.routes.fallback.sink);
    return [...sinks];
  }

  async flush(): Promise<void> {
    await Promise.all(this.all().map((sink) => sink.flush()));
  }

  async close(deadline?: AbortSignal): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.all().map((sink) => sink.close(deadline)), ...this.draining]);
  }
}
