import type { DecodeContext } from '../decoder.ts';
import { readTextHeader } from '../headers.ts';
import { hasLoneSurrogate, isWellFormedUtf8 } from '../text-validity.ts';
import type { GroupingKeyConfig } from './config.ts';

/** The grouping labels of one message, in the order given; `job` is always first when present. */
export interface GroupingLabels {
  readonly names: readonly string[];
  readonly values: readonly string[];
}

/** Why a message has no usable grouping key: `oversized` when the key is larger than a message may be. */
export interface GroupingKeyRejection {
  readonly reason: 'malformed' | 'oversized';
  readonly detail: string;
}

/** Reads a message's grouping key, or says why it has none that is valid. */
export type GroupingKeyReader = (context: DecodeContext) => GroupingLabels | GroupingKeyRejection;

const NO_LABELS: GroupingLabels = Object.freeze({ names: Object.freeze([]), values: Object.freeze([]) });

/**
 * `maxBytes` bounds the key itself (the message key, or the grouping headers together): it is
 * part of the message, and its labels are applied to every sample.
 */
export function compileGroupingKey(config: GroupingKeyConfig, maxBytes: number): GroupingKeyReader {
  switch (config.from) {
    case 'key':
      return (context) => {
        const size = context.key?.length ?? 0;
        if (size > maxBytes) return oversized(`the message key has ${size} bytes > ${maxBytes} (source.max_message_bytes)`);
        return malformedIfText(fromKey(context));
      };
    case 'headers': {
      const prefix = config.header_prefix;
      return (context) => malformedIfText(fromHeaders(context, prefix, maxBytes));
    }
    case 'none':
      return () => NO_LABELS;
  }
}

function oversized(detail: string): GroupingKeyRejection {
  return { reason: 'oversized', detail: `grouping key: ${detail}` };
}

function malformedIfText(result: GroupingLabels | GroupingKeyRejection | string): GroupingLabels | GroupingKeyRejection {
  return typeof result === 'string' ? { reason: 'malformed', detail: `grouping key: ${result}` } : result;
}

/**
 * The Pushgateway push path after `/metrics/` (a leading `/metrics/` is tolerated):
 * `job/<job>{/<label>/<value>}`. As the Pushgateway does: plain segments are URL-decoded; a name
 * suffixed `@base64` marks its value as base64url (padding optional, `=` alone for an empty value);
 * the job must not be empty; names must be valid label names not starting with `__`. Stricter
 * than the Pushgateway: a repeated label is an error rather than last-wins.
 */
function fromKey(context: DecodeContext): GroupingLabels | string {
  const key = context.key;
  if (key === null || key.length === 0) return 'the message has no key (expected job/<job>{/<label>/<value>})';
  if (!isWellFormedUtf8(key)) return 'the message key is not UTF-8';
  let path = key.toString('utf8');
  if (path.startsWith('/')) path = path.slice(1);
  if (path.startsWith('metrics/')) path = path.slice('metrics/'.length);
  const segments = path.split('/');
  if (segments.length % 2 !== 0) return `${segments.length} path segments; expected job/<job> followed by <label>/<value> pairs`;
  if (segments[0] !== 'job' && segments[0] !== `job${BASE64_SUFFIX}`) return 'the key must start with job/<job>';
  const names: string[] = [];
  const values: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < segments.length; i += 2) {
    const segment = segments[i]!;
    const encoded = segment.endsWith(BASE64_SUFFIX);
    const name = encoded ? segment.slice(0, -BASE64_SUFFIX.length) : segment;
    if (!LABEL_NAME.test(name) || name.startsWith('__')) return `segment ${i + 1} is not a label name`;
    if (seen.has(name)) return `label ${name} is given twice`;
    seen.add(name);
    const raw = segments[i + 1]!;
    let value: string | undefined;
    if (encoded) {
      value = decodeBase64Url(raw);
      if (value === undefined) return `the value of ${name}@base64 is not base64url of UTF-8 text`;
    } else {
      if (raw === '') return `empty value for label ${name} (write ${name}@base64/= for an empty value)`;
      try {
        // Refuses percent-encoded surrogates and overlongs (URIError), as isWellFormedUtf8 does bytes.
        value = decodeURIComponent(raw);
      } catch {
        return `invalid percent-encoding in the value of label ${name}`;
      }
    }
    if (name === 'job' && value === '') return 'the job name is empty';
    names.push(name);
    values.push(value);
  }
  return { names, values };
}

function fromHeaders(context: DecodeContext, prefix: string, maxBytes: number): GroupingLabels | GroupingKeyRejection | string {
  const names: string[] = [];
  const values: string[] = [];
  let size = 0;
  for (const header of Object.keys(context.headers)) {
    if (!header.startsWith(prefix)) continue;
    const name = header.slice(prefix.length);
    if (!LABEL_NAME.test(name) || name.startsWith('__')) return `header "${header}" does not name a valid label`;
    const text = readTextHeader(context, header);
    if (!text.ok) return text.detail;
    if (text.value === undefined) continue;
    if (hasLoneSurrogate(text.value)) return `header "${header}" is not UTF-8`;
    size += header.length + text.value.length;
    if (size > maxBytes) return oversized(`the grouping headers have more than ${maxBytes} characters (source.max_message_bytes)`);
    if (name === 'job') {
      if (text.value === '') return 'the job name is empty';
      names.unshift(name);
      values.unshift(text.value);
    } else {
      names.push(name);
      values.push(text.value);
    }
  }
  if (names[0] !== 'job') return `header ${prefix}job is missing`;
  return { names, values };
}

function decodeBase64Url(raw: string): string | undefined {
  const unpadded = raw.replace(/=+$/, '');
  if (!BASE64URL.test(unpadded)) return undefined;
  const bytes = Buffer.from(unpadded, 'base64url');
  return isWellFormedUtf8(bytes) ? bytes.toString('utf8') : undefined;
}

const BASE64_SUFFIX = '@base64';
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
