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
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { HEADER_VALUE_FORBIDDEN } from '../remote-write/config.ts';
import type { RemoteWriteConfig, RemoteWriteTlsConfig } from '../remote-write/config.ts';

export interface TlsOptions {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly servername?: string;
  readonly rejectUnauthorized: boolean;
}

/** What a tenant's HTTP sink config says about reaching its receiver. */
export type EndpointAccess = Pick<RemoteWriteConfig, 'endpoint' | 'headers' | 'auth' | 'tls'>;

/** A tenant's request target, ready to use. */
export interface ResolvedEndpoint {
  readonly endpoint: string;
  /** Every header the tenant sends, credentials included. Never log this. */
  readonly headers: Readonly<Record<string, string>>;
  /** Values to scrub from any text that might be logged. */
  readonly secrets: readonly string[];
  readonly tls: TlsOptions | undefined;
}

/** A tenant's config cannot be made usable (a missing variable, an unreadable or unusable file). */
export class TenantConfigError extends Error {
  override readonly name = 'TenantConfigError';
  constructor(
    readonly tenant: string,
    /** Where in the tenant's entry, e.g. `['auth', 'bearer_token_env']`. */
    readonly path: readonly string[],
    /** What is wrong; names variables and config fields, never a value or a file name (either may be secret). */
    readonly detail: string,
  ) {
    super(`tenant ${JSON.stringify(tenant)}: ${path.join('.')}: ${detail}`);
  }
}

export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Resolves headers, auth and TLS. `extraHeaders` (the default route's tenant
 * header) are added last.
 */
export function resolveEndpoint(
  tenant: string,
  config: EndpointAccess,
  env: Environment,
  extraHeaders: Readonly<Record<string, string>> = {},
): ResolvedEndpoint {
  const headers: Record<string, string> = {};
  const secrets: string[] = [];
  const fromEnv = (name: string, path: readonly string[]): string => {
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
      headers[name] = fromEnv(value.value_from_env, ['headers', name, 'value_from_env']);
    }
  }
  const auth = config.auth;
  if (auth?.bearer_token_env !== undefined) {
    headers.Authorization = `Bearer ${fromEnv(auth.bearer_token_env, ['auth', 'bearer_token_env'])}`;
  } else if (auth?.basic !== undefined) {
    const password = fromEnv(auth.basic.password_env, ['auth', 'basic', 'password_env']);
    const token = Buffer.from(`${auth.basic.username}:${password}`, 'utf8').toString('base64');
    secrets.push(token);
    headers.Authorization = `Basic ${token}`;
  }
  Object.assign(headers, extraHeaders);

  const tls = config.tls === undefined ? undefined : readTls(tenant, config.tls);
  // Longest first, so a secret containing another is scrubbed whole.
  secrets.sort((a, b) => b.length - a.length);
  return { endpoint: config.endpoint, headers, secrets, tls };
}

/**
 * Reads the TLS files and checks they are usable PEM, so a wrong file fails start-up (and
 * `sluice validate`) instead of every connection attempt, retried for ever.
 */
function readTls(tenant: string, config: RemoteWriteTlsConfig): TlsOptions {
  const read = (file: string | undefined, field: string): Buffer | undefined => {
    if (file === undefined) return undefined;
    try {
      return readFileSync(file);
    } catch (error) {
      throw new TenantConfigError(tenant, ['tls', field], `cannot read the file: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  };
  const tls = {
    ca: read(config.ca_file, 'ca_file'),
    cert: read(config.cert_file, 'cert_file'),
    key: read(config.key_file, 'key_file'),
    servername: config.server_name,
    rejectUnauthorized: !config.insecure_skip_verify,
  };
  if (tls.ca !== undefined) {
    try {
      new X509Certificate(tls.ca);
    } catch (error) {
      throw new TenantConfigError(tenant, ['tls', 'ca_file'], `not a PEM certificate (${openSslCode(error)})`);
    }
  }
  if (tls.cert !== undefined || tls.key !== undefined) {
    try {
      createSecureContext({ cert: tls.cert, key: tls.key });
    } catch (error) {
      throw new TenantConfigError(tenant, ['tls', 'cert_file'], `cert_file and key_file are not a matching PEM certificate and key (${openSslCode(error)})`);
    }
  }
  return tls;
}

/** OpenSSL's error code only: its messages are generic, but a code is all a user needs to search for. */
function openSslCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? 'unreadable';
}

/** Replaces every secret in `text` with [redacted]. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4 && out.includes(secret)) out = out.split(secret).join('[redacted]');
  }
  return out;
}
