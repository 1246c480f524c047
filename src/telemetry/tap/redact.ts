import { isContentAttribute } from '../../codecs/otlp/content.ts';

/**
 * What `sluice tap` shows of a record: its shape and its label-like fields, never its content or
 * a secret. Content keys are the OTLP decoders' drop list (prompts, completions, tool calls,
 * headers, exception text) plus the free-text and credential names of JSON / Avro logs; long
 * strings are cut, since free text hides under any name. The telemetry server then replaces
 * every environment-derived config value (ConfigSource.redact), which covers endpoint secrets.
 */

export const REDACTED = '[redacted]';
/** Longer strings are cut: an id or a label value fits, a paragraph of user text does not. */
export const MAX_STRING_CHARS = 128;
const MAX_DEPTH = 6;
const MAX_ENTRIES = 32;

/** Free text in call logs (JSON / Avro gateways, OpenInference, LangChain-style fields), by the key's last segment. */
const CONTENT_NAMES = new Set([
  'prompt', 'prompts', 'completion', 'completions', 'response', 'responses', 'messages', 'message',
  'input', 'output', 'query', 'question', 'answer', 'text', 'body', 'instructions', 'system_prompt',
  'user_input', 'request_body', 'response_body', 'arguments', 'result', 'error_message', 'stacktrace',
]);

/** Credentials, by the key's last segment (`api_key_id` and `input_tokens` stay: an id and a count). */
const SECRET_KEY = /(^|[._-])(api[_-]?key|apikey|authorization|auth|password|passwd|secret|token|access[_-]?token|cookie|set[_-]cookie|credentials?)$/i;

export function isRedactedKey(key: string): boolean {
  if (isContentAttribute(key) || SECRET_KEY.test(key)) return true;
  const last = key.slice(key.lastIndexOf('.') + 1).toLowerCase();
  return CONTENT_NAMES.has(last);
}

/** A JSON-safe, redacted copy of a decoded record (or any value inside one). */
export function redactRecord(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.length > MAX_STRING_CHARS ? `${value.slice(0, MAX_STRING_CHARS)}…(${value.length} chars)` : value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value === 'boolean' || value === undefined) return value ?? null;
  if (value instanceof Uint8Array) return `(${value.length} bytes)`;
  if (depth >= MAX_DEPTH) return '…';
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ENTRIES).map((item) => redactRecord(item, depth + 1));
    if (value.length > MAX_ENTRIES) items.push(`…(${value.length - MAX_ENTRIES} more)`);
    return items;
  }
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    let kept = 0;
    for (const [key, inner] of Object.entries(value)) {
      if (kept++ >= MAX_ENTRIES) {
        out['…'] = 'more fields';
        break;
      }
      out[key] = isRedactedKey(key) && inner !== null && inner !== undefined && typeof inner !== 'number' && typeof inner !== 'boolean' ? REDACTED : redactRecord(inner, depth + 1);
    }
    return out;
  }
  return String(value);
}
