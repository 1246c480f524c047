/**
 * Turns a tenant's remote-write config into what a request needs: the final
 * header set with secrets read from the environment, and TLS material read
 * from files. Runs once, when the sink is built (Benthos: constructors check
 * everything up front), so a missing variable fails start-up, not the first
 * request.
 *
 * Secrets never appear in an error: messages name the variable or file,
 * never a value. The resolved secret values are also returned so the sender
 * can scrub them from anything a receiver echoes back (error bodies).
 */
import { readFileSync } from 'node:fs';
import { HEADER_VALUE_FORBIDDEN } from '../sinks/remote-write/config.ts';
import type { RemoteWriteConfig } from '../sinks/remote-write/config.ts';

export interface TlsOptions {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly servername?: string;
  readonly rejectUnauthorized: boolean;
}

/** A tenant's request target, ready to use. */
export interface ResolvedEndpoint {
  readonly endpoint: string;
  /** Every header the tenant sends, credentials included. Never log this. */
  readonly headers: Readonly<Record<string, string>>;
  /** Values to scrub from any text that might be logged. */
  readonly secrets: readonly string[];
  readonly tls: TlsOptions | undefined;
}

/** A tenant's config cannot be made usable (a missing variable or unreadable file). */
export class TenantConfigError extends Error {
  override readonly name = 'TenantConfigError';
  constructor(
    readonly tenant: string,
    readonly path: string,
    detail: string,
  ) {
    super(`tenant ${JSON.stringify(tenant)}: ${path}: ${detail}`);
  }
}

export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Resolves headers, auth and TLS. `extraHeaders` (the default route's tenant
 * header) are added last.
 */
export function resolveEndpoint(
  tenant: string,
  config: Pick<RemoteWriteConfig, 'endpoint' | 'headers' | 'auth' | 'tls'>,
  env: Environment,
  extraHeaders: Readonly<Record<string, string>> = {},
): ResolvedEndpoint {
  const headers: Record<string, string> = {};
  const secrets: string[] = [];
  const fromEnv = (name: string, path: string): string => {
    const value = env[name];
    if (value === undefined || value === '') {
      throw new TenantConfigError(tenant, path, `environment variable ${name} is not set`);
    }
    if (HEADER_VALUE_FORBIDDEN.test(value)) {
      throw new TenantConfigError(tenant, path, `environment variable ${name} contains CR, LF or NUL`);
    }
    secrets.push(value);
    return value;
  };

  for (const [name, value] of Object.entries(config.headers)) {
    if (typeof value === 'string') {
      headers[name] = value;
      if (name.toLowerCase() === 'authorization') secrets.push(value);
    } else {
      headers[name] = fromEnv(value.value_from_env, `headers.${name}.value_from_env`);
    }
  }
  const auth = config.auth;
  if (auth?.bearer_token_env !== undefined) {
    headers.Authorization = `Bearer ${fromEnv(auth.bearer_token_env, 'auth.bearer_token_env')}`;
  } else if (auth?.basic !== undefined) {
    const password = fromEnv(auth.basic.password_env, 'auth.basic.password_env');
    const token = Buffer.from(`${auth.basic.username}:${password}`, 'utf8').toString('base64');
    secrets.push(token);
    headers.Authorization = `Basic ${token}`;
  }
  Object.assign(headers, extraHeaders);

  let tls: TlsOptions | undefined;
  if (config.tls !== undefined) {
    const read = (file: string | undefined, path: string): Buffer | undefined => {
      if (file === undefined) return undefined;
      try {
        return readFileSync(file);
      } catch (error) {
        throw new TenantConfigError(tenant, path, `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
      }
    };
    const t = config.tls;
    tls = {
      ca: read(t.ca_file, 'tls.ca_file'),
      cert: read(t.cert_file, 'tls.cert_file'),
      key: read(t.key_file, 'tls.key_file'),
      servername: t.server_name,
      rejectUnauthorized: !t.insecure_skip_verify,
    };
  }
  // Longest first, so a secret containing another is scrubbed whole.
  secrets.sort((a, b) => b.length - a.length);
  return { endpoint: config.endpoint, headers, secrets, tls };
}

/** Replaces every secret in `text` with [redacted]. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4 && out.includes(secret)) out = out.split(secret).join('[redacted]');
  }
  return out;
}
