import { isUtf8 } from 'node:buffer';
import type { DecodeContext } from '../decoder.ts';
import { readTextHeader } from '../headers.ts';
import type { GroupingKeyConfig } from './config.ts';

/** The grouping labels of one message, in the order given; `job` is always first when present. */
export interface GroupingLabels {
  readonly names: readonly string[];
  readonly values: readonly string[];
}

/** Reads a message's grouping key, or says why it has none that is valid. */
export type GroupingKeyReader = (context: DecodeContext) => GroupingLabels | string;

const NO_LABELS: GroupingLabels = Object.freeze({ names: Object.freeze([]), values: Object.freeze([]) });

export function compileGroupingKey(config: GroupingKeyConfig): GroupingKeyReader {
  switch (config.from) {
    case 'key':
      return fromKey;
    case 'headers': {
      const prefix = config.header_prefix;
      return (context) => fromHeaders(context, prefix);
    }
    case 'none':
      return () => NO_LABELS;
  }
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
  if (key === null || key.length === 0) return 'grouping key: the message has no key (expected job/<job>{/<label>/<value>})';
  if (!isUtf8(key)) return 'grouping key: the message key is not UTF-8';
  let path = key.toString('utf8');
  if (path.startsWith('/')) path = path.slice(1);
  if (path.startsWith('metrics/')) path = path.slice('metrics/'.length);
  const segments = path.split('/');
  if (segments.length % 2 !== 0) return `grouping key: ${segments.length} path segments; expected job/<job> followed by <label>/<value> pairs`;
  if (segments[0] !== 'job' && segments[0] !== `job${BASE64_SUFFIX}`) return 'grouping key: the key must start with job/<job>';
  const names: string[] = [];
  const values: string[] = [];
  for (let i = 0; i < segments.length; i += 2) {
    const segment = segments[i]!;
    const encoded = segment.endsWith(BASE64_SUFFIX);
    const name = encoded ? segment.slice(0, -BASE64_SUFFIX.length) : segment;
    if (!LABEL_NAME.test(name) || name.startsWith('__')) return `grouping key: segment ${i + 1} is not a label name`;
    if (names.includes(name)) return `grouping key: label ${name} is given twice`;
    const raw = segments[i + 1]!;
    let value: string | undefined;
    if (encoded) {
      value = decodeBase64Url(raw);
      if (value === undefined) return `grouping key: the value of ${name}@base64 is not base64url of UTF-8 text`;
    } else {
      if (raw === '') return `grouping key: empty value for label ${name} (write ${name}@base64/= for an empty value)`;
      try {
        value = decodeURIComponent(raw);
      } catch {
        return `grouping key: invalid percent-encoding in the value of label ${name}`;
      }
    }
    if (name === 'job' && value === '') return 'grouping key: the job name is empty';
    names.push(name);
    values.push(value);
  }
  return { names, values };
}

function fromHeaders(context: DecodeContext, prefix: string): GroupingLabels | string {
  const names: string[] = [];
  const values: string[] = [];
  for (const header of Object.keys(context.headers)) {
    if (!header.startsWith(prefix)) continue;
    const name = header.slice(prefix.length);
    if (!LABEL_NAME.test(name) || name.startsWith('__')) return `grouping key: header "${header}" does not name a valid label`;
    const text = readTextHeader(context, header);
    if (!text.ok) return `grouping key: ${text.detail}`;
    if (text.value === undefined) continue;
    if (name === 'job') {
      if (text.value === '') return 'grouping key: the job name is empty';
      names.unshift(name);
      values.unshift(text.value);
    } else {
      names.push(name);
      values.push(text.value);
    }
  }
  if (names[0] !== 'job') return `grouping key: header ${prefix}job is missing`;
  return { names, values };
}

function decodeBase64Url(raw: string): string | undefined {
  const unpadded = raw.replace(/=+$/, '');
  if (!BASE64URL.test(unpadded)) return undefined;
  const bytes = Buffer.from(unpadded, 'base64url');
  return isUtf8(bytes) ? bytes.toString('utf8') : undefined;
}

const BASE64_SUFFIX = '@base64';
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
