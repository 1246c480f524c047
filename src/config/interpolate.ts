/**
 * Environment interpolation for config scalars, as Vector does it: `${NAME}` must be set,
 * `${NAME:-default}` falls back when unset or empty, and `$$` is a literal `$`.
 * Errors name the variable, never its value (values may be secrets).
 */
export type Interpolated =
  | {
      ok: true;
      value: string;
      /** The variables whose values went into `value` (defaults written in the file do not count). */
      fromEnv: readonly EnvSubstitution[];
    }
  | { ok: false; error: string };

export interface EnvSubstitution {
  readonly name: string;
  readonly value: string;
}

const REFERENCE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function interpolateEnv(text: string, env: NodeJS.ProcessEnv): Interpolated {
  let error: string | undefined;
  const fromEnv: EnvSubstitution[] = [];
  const value = text.replace(REFERENCE, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$$') return '$';
    const set = env[name!];
    if (set !== undefined && set !== '') {
      if (/[\r\n]/.test(set)) error ??= `environment variable ${name} contains a line break`;
      fromEnv.push({ name: name!, value: set });
      return set;
    }
    if (fallback !== undefined) return fallback;
    error ??= `environment variable ${name} is not set`;
    return '';
  });
  return error === undefined ? { ok: true, value, fromEnv } : { ok: false, error };
}
