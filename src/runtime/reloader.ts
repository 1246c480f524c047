import type { Logger } from 'pino';
import { ConfigError, type LoadedPipeline } from '../config/load.ts';
import { withRegistryTenants } from '../config/registry-tenants.ts';
import { loadCheckedPipeline } from '../config/startup-check.ts';
import type { TenantConfig } from '../sinks/registry.ts';
import type { ReloadAnswer } from '../telemetry/http-server.ts';
import type { SluiceMetrics } from '../telemetry/metrics.ts';
import { RedisTenantRegistry, type RegistryHash } from '../tenancy/registry.ts';
import type { RunningPipelines } from './process.ts';

/** What started a reload, for the log line. */
export type ReloadTrigger = 'sighup' | 'file' | 'http' | 'registry';

/** One pipeline's registry: its reader, what it held at the last read, and its last valid entries. */
interface Watched {
  readonly pipeline: string;
  readonly registry: RedisTenantRegistry;
  readonly pollIntervalMs: number;
  hashes: ReadonlyMap<string, RegistryHash>;
  /** The read that `hashes` came from, to tell a change from a repeat. */
  seen: string;
  lastGood: ReadonlyMap<string, TenantConfig>;
  /** Log a failing read once per outage. */
  failing: boolean;
  timer?: NodeJS.Timeout;
}

/**
 * Reads the pipeline files and the tenant registries, and hands the result to the running
 * process (which decides and applies it, all or nothing: RunningPipelines.apply). Every attempt
 * ends in one log line and the reload metrics; a refused one names file:line:col or the reasons,
 * never a value.
 */
export class Reloader {
  private readonly watched = new Map<string, Watched>();
  private running: RunningPipelines | undefined;
  private closed = false;

  constructor(
    private readonly files: readonly string[],
    private readonly logger: Logger,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /**
   * The pipelines to start with: the files (already checked by the caller) and, for each pipeline
   * with a `tenant_registry`, its tenants as they are now (a registry that cannot be read yet adds
   * none: the poller adds them once it can).
   */
  async initial(loaded: readonly LoadedPipeline[]): Promise<LoadedPipeline[]> {
    for (const { config } of loaded) {
      const options = config.tenant_registry;
      if (options === undefined) continue;
      const registry = new RedisTenantRegistry({ redisUrl: options.redis_url, keyPrefix: options.key_prefix, pollIntervalMs: options.poll_interval });
      const watched: Watched = { pipeline: config.name, registry, pollIntervalMs: options.poll_interval, hashes: new Map(), seen: '', lastGood: new Map(), failing: false };
      this.watched.set(config.name, watched);
      await this.read(watched);
    }
    return loaded.map((one) => this.merge(one, false));
  }

  /** Starts polling the registries; reloads requested over HTTP come here too. */
  attach(running: RunningPipelines): void {
    this.running = running;
    running.onReloadRequest(() => this.reload('http'));
    for (const watched of this.watched.values()) this.schedule(watched);
  }

  /** Reads the files again and applies them with the registries' current tenants. */
  async reload(trigger: ReloadTrigger): Promise<ReloadAnswer> {
    const running = this.running;
    if (running === undefined || this.closed) return { ok: false, result: 'unavailable', reasons: ['not running'] };
    const { metrics } = running;
    const loaded: LoadedPipeline[] = [];
    const problems: string[] = [];
    for (const file of this.files) {
      try {
        loaded.push(this.merge(await loadCheckedPipeline(file, this.env), true));
      } catch (error) {
        problems.push(...(error instanceof ConfigError ? error.message.split('\n') : [`${file}: ${firstLine(error)}`]));
      }
    }
    if (problems.length > 0) return this.refused(metrics, trigger, 'invalid', problems);
    const outcome = await running.apply(loaded);
    if (outcome.result === 'refused') return this.refused(metrics, trigger, 'refused', outcome.reasons);
    metrics.configReloads.inc({ result: 'success' });
    metrics.configLastReloadSuccessful.set(1);
    if (outcome.result === 'unchanged') {
      this.logger.info({ trigger }, 'config reloaded: unchanged');
      return { ok: true, result: 'unchanged', reasons: [] };
    }
    metrics.configLastReloadSuccessTimestamp.set(Date.now() / 1000);
    this.logger.info({ trigger, live: outcome.live, rebuilt: outcome.rebuilt }, 'config reloaded');
    return { ok: true, result: 'applied', reasons: [...outcome.live, ...outcome.rebuilt] };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const watched of this.watched.values()) {
      clearTimeout(watched.timer);
      await watched.registry.close();
    }
  }

  private refused(metrics: SluiceMetrics, trigger: ReloadTrigger, result: string, reasons: readonly string[]): ReloadAnswer {
    metrics.configReloads.inc({ result: 'failure' });
    metrics.configLastReloadSuccessful.set(0);
    this.logger.error({ trigger, problems: reasons }, `config reload ${result === 'invalid' ? 'refused: the config does not validate' : 'refused: incompatible change'}; the running config stays`);
    return { ok: false, result, reasons };
  }

  /** `loaded` with its registry's tenants; `remember` keeps the valid entries as the fallback for later invalid ones. */
  private merge(loaded: LoadedPipeline, remember: boolean): LoadedPipeline {
    const watched = this.watched.get(loaded.config.name);
    if (watched === undefined) return loaded;
    const merge = withRegistryTenants(loaded, watched.hashes, watched.lastGood, this.env);
    if (merge.refused.length > 0) {
      this.running?.metrics.tenantRegistryRefused.inc({ pipeline: watched.pipeline }, merge.refused.length);
      this.logger.warn({ pipeline: watched.pipeline, problems: merge.refused }, 'tenant registry entries refused; those tenants keep their last valid entry, if any');
    }
    if (merge.shadowed.length > 0) this.logger.warn({ pipeline: watched.pipeline, tenants: merge.shadowed }, 'tenant registry entries ignored: the pipeline file declares these tenants');
    if (remember || this.running === undefined) watched.lastGood = merge.accepted;
    return merge.loaded;
  }

  /** Reads a registry; true when what it holds changed since the last read. */
  private async read(watched: Watched): Promise<boolean> {
    try {
      const { tenants, invalidIds } = await watched.registry.read();
      if (watched.failing) this.logger.info({ pipeline: watched.pipeline }, 'tenant registry readable again');
      watched.failing = false;
      if (invalidIds > 0) this.logger.warn({ pipeline: watched.pipeline, keys: invalidIds }, 'tenant registry keys whose id is not a valid tenant id were ignored');
      const seen = JSON.stringify([...tenants]);
      if (seen === watched.seen) return false;
      watched.seen = seen;
      watched.hashes = tenants;
      return true;
    } catch (error) {
      // The tenants read last stay: an unreachable registry removes no tenant.
      if (!watched.failing) this.logger.warn({ pipeline: watched.pipeline, error: firstLine(error) }, 'cannot read the tenant registry; its tenants stay as last read');
      watched.failing = true;
      return false;
    }
  }

  private schedule(watched: Watched): void {
    if (this.closed) return;
    watched.timer = setTimeout(() => {
      void (async () => {
        if (await this.read(watched)) await this.reload('registry');
        this.schedule(watched);
      })();
    }, watched.pollIntervalMs);
  }
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0]!;
}
