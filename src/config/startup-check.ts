import { CodecConfigError } from '../codecs/decoder.ts';
import { compileTransforms } from '../operators/transforms/index.ts';
import { createAggregator, planMetrics, planWindowing } from '../operators/windowed-metrics/plan.ts';
import { Ingest } from '../runtime/ingest.ts';
import { resolveEndpoint, TenantConfigError, type Environment } from '../sinks/http/secrets.ts';
import { endpointAccessOf } from '../sinks/registry.ts';
import { loadPipelineFile, type LoadedPipeline } from './load.ts';
import { ConfigError, formatPath, type ConfigProblem } from './source.ts';

/** A problem found by building part of the pipeline, before it is located in the file. */
interface Found {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/**
 * Loads a pipeline file and builds from it, without connecting anywhere, everything start-up
 * builds: the decoder and its schema files, transforms (CEL with the pipeline's function
 * environment, relabel regexes), tenant resolution, event time, metric plans, and each tenant's
 * endpoint with its secrets from the environment and its TLS files. `sluice validate` and `sluice
 * run` both load through here, so a file that validates also starts, and `run` reports a config
 * problem as `validate` does (file:line:col, path, no values), never as a crash.
 *
 * Topic names, the Redis URL and addresses are checked by the schema itself.
 */
export async function loadCheckedPipeline(file: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadedPipeline> {
  const loaded = await loadPipelineFile(file, env);
  checkStartup(loaded, env);
  return loaded;
}

/** Throws a ConfigError listing every start-up problem of `loaded`, each located in its file. */
export function checkStartup(loaded: LoadedPipeline, env: Environment = process.env): void {
  const found = [...checkIngest(loaded), ...checkMetrics(loaded), ...checkTenants(loaded, env)];
  if (found.length > 0) throw new ConfigError(found.map((problem) => locate(loaded, problem)));
}

function locate(loaded: LoadedPipeline, { path, message }: Found): ConfigProblem {
  if (loaded.source !== undefined) return loaded.source.problem(path, message);
  // A config built in code has no file positions to give.
  return { file: loaded.file, line: 1, col: 1, path: formatPath(path), message };
}

/** Decoder, transforms, tenant resolver and event time: what Stage 1 builds through `new Ingest`. */
function checkIngest(loaded: LoadedPipeline): Found[] {
  try {
    new Ingest(loaded);
    return [];
  } catch (error) {
    if (error instanceof CodecConfigError) return [{ path: ['decode', ...error.path], message: error.message }];
    return [{ path: transformAt(loaded) ?? [], message: firstLine(error) }];
  }
}

/** Which transform fails to compile on its own (and where inside it, if its error says), if one does. */
function transformAt({ config }: LoadedPipeline): PropertyKey[] | undefined {
  for (const [index, transform] of config.transforms.entries()) {
    try {
      compileTransforms([transform], config.constants);
    } catch (error) {
      const inner = (error as { path?: unknown }).path;
      return ['transforms', index, ...(Array.isArray(inner) ? (inner as PropertyKey[]) : [])];
    }
  }
  return undefined;
}

/** Windowing and metric plans (aggregators, metric filters), as the pipeline runner builds them. */
function checkMetrics({ config }: LoadedPipeline): Found[] {
  try {
    planWindowing(config.window);
    planMetrics(config.metrics);
    return [];
  } catch (error) {
    const index = config.metrics.findIndex((metric) => {
      try {
        createAggregator(metric);
        return false;
      } catch {
        return true;
      }
    });
    return [{ path: index < 0 ? ['metrics'] : ['metrics', index], message: firstLine(error) }];
  }
}

/** Each tenant's endpoint as its sink resolves it: secrets from `env`, TLS files read. */
function checkTenants({ config }: LoadedPipeline, env: Environment): Found[] {
  const { tenants, default_route: route } = config.tenants;
  const entries = Object.entries(tenants).map(([id, tenant]) => [id, endpointAccessOf(tenant)] as const);
  if (route !== undefined) entries.push(['default_route', { access: route, path: [] }]);
  const found: Found[] = [];
  for (const [id, { access, path }] of entries) {
    try {
      resolveEndpoint(id, access, env);
    } catch (error) {
      if (!(error instanceof TenantConfigError)) throw error;
      found.push({ path: ['tenants', id, ...path, ...error.path], message: error.detail });
    }
  }
  return found;
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0]!;
}
