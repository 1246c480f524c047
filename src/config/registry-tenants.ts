import { resolveEndpoint, TenantConfigError, type Environment } from '../sinks/http/secrets.ts';
import { endpointAccessOf, tenantsConfigSchema, type TenantConfig } from '../sinks/registry.ts';
import { registryEntry, type RegistryHash } from '../tenancy/registry.ts';
import type { LoadedPipeline } from './load.ts';
import { formatPath } from './source.ts';

/** A pipeline with its registry tenants added, and what was refused or shadowed on the way. */
export interface RegistryMerge {
  readonly loaded: LoadedPipeline;
  /** Tenants of the registry now served (valid entries, and the last valid entry of a tenant whose entry turned invalid). */
  readonly accepted: ReadonlyMap<string, TenantConfig>;
  /** `tenant: problem` for every invalid entry (fields named, never values). */
  readonly refused: readonly string[];
  /** Registry tenants ignored because the file declares the same id (the file wins). */
  readonly shadowed: readonly string[];
}

/**
 * Adds the registry's tenants to a loaded pipeline. Each hash becomes a tenant entry of the
 * file's shape (tenancy/registry) and passes the same checks as a file tenant: the schema, then
 * its secrets from `env` and its TLS files. The file wins on a conflict: a file tenant is reviewed
 * with the pipeline, a registry entry is not. An invalid entry is refused on its own (one bad HSET
 * must not block the others) and the tenant keeps its `lastGood` entry, if it had one.
 */
export function withRegistryTenants(
  loaded: LoadedPipeline,
  hashes: ReadonlyMap<string, RegistryHash>,
  lastGood: ReadonlyMap<string, TenantConfig>,
  env: Environment = process.env,
): RegistryMerge {
  const fileTenants = loaded.config.tenants.tenants;
  const accepted = new Map<string, TenantConfig>();
  const refused: string[] = [];
  const shadowed: string[] = [];
  for (const [id, hash] of hashes) {
    if (Object.hasOwn(fileTenants, id)) {
      shadowed.push(id);
      continue;
    }
    const parsed = parseEntry(id, hash, env);
    if (typeof parsed === 'string') {
      refused.push(`${id}: ${parsed}`);
      const previous = lastGood.get(id);
      if (previous !== undefined) accepted.set(id, previous);
    } else {
      accepted.set(id, parsed);
    }
  }
  if (accepted.size === 0) return { loaded, accepted, refused, shadowed };
  const tenants = { ...Object.fromEntries(accepted), ...fileTenants };
  const config = { ...loaded.config, tenants: { ...loaded.config.tenants, tenants } };
  return { loaded: { ...loaded, config }, accepted, refused, shadowed };
}

function parseEntry(id: string, hash: RegistryHash, env: Environment): TenantConfig | string {
  const mapped = registryEntry(hash);
  if ('problem' in mapped) return mapped.problem;
  const result = tenantsConfigSchema.safeParse({ [id]: mapped.entry });
  if (!result.success) {
    const issue = result.error.issues[0]!;
    return `${formatPath(issue.path.slice(1) as PropertyKey[]) || 'entry'}: ${issue.message}`;
  }
  const tenant = result.data.tenants[id]!;
  const { access, path } = endpointAccessOf(tenant);
  try {
    resolveEndpoint(id, access, env);
  } catch (error) {
    if (!(error instanceof TenantConfigError)) throw error;
    return `${formatPath([...path, ...error.path])}: ${error.detail}`;
  }
  return tenant;
}
