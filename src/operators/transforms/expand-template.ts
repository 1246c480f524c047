/**
 * Prometheus expands `replacement` and `target_label` with Go's `Regexp.ExpandString`, whose
 * rules differ from JavaScript's `String.replace`: `$name` takes the longest run of letters,
 * digits and `_` (`$1x` is the group named `1x`, so write `${1}x`), a group that does not exist
 * or did not take part in the match expands to nothing, `$$` is a `$`, and a `$` not followed by a
 * name is kept as written. The template is parsed once, when the pipeline is loaded.
 */
export type TemplatePart = string | { readonly group: number };

/** Expands a parsed template from a match's groups (`groups[0]` is the whole match). */
export type ExpandTemplate = (groups: readonly (string | null | undefined)[]) => string;

const NAME_CHAR = /[\p{L}\p{Nd}_]/u;

export function compileTemplate(template: string, namedGroups: Readonly<Record<string, number>>): ExpandTemplate {
  const parts = parseTemplate(template, namedGroups);
  if (parts.length === 1 && typeof parts[0] === 'string') {
    const constant = parts[0];
    return () => constant;
  }
  return (groups) => {
    let out = '';
    for (const part of parts) out += typeof part === 'string' ? part : (groups[part.group] ?? '');
    return out;
  };
}

function parseTemplate(template: string, namedGroups: Readonly<Record<string, number>>): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let literal = '';
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf('$', i);
    if (dollar < 0) {
      literal += template.slice(i);
      break;
    }
    literal += template.slice(i, dollar);
    i = dollar + 1;
    if (template[i] === '$') {
      literal += '$';
      i++;
      continue;
    }
    const reference = readReference(template, i);
    if (!reference) {
      literal += '$';
      continue;
    }
    i = reference.end;
    const group = groupOf(reference.name, namedGroups);
    if (group === undefined) continue; // Go expands an unknown group to nothing.
    if (literal) parts.push(literal);
    literal = '';
    parts.push({ group });
  }
  if (literal || parts.length === 0) parts.push(literal);
  return parts;
}

/** Go's `extract`: `name` or `{name}` at `start`; undefined when malformed. */
function readReference(template: string, start: number): { name: string; end: number } | undefined {
  const braced = template[start] === '{';
  let i = braced ? start + 1 : start;
  const nameStart = i;
  for (const char of template.slice(nameStart)) {
    if (!NAME_CHAR.test(char)) break;
    i += char.length;
  }
  if (i === nameStart) return undefined;
  const name = template.slice(nameStart, i);
  if (braced) {
    if (template[i] !== '}') return undefined;
    i++;
  }
  return { name, end: i };
}

/** A decimal name without a leading zero is a group number (as in Go), anything else a group name. */
function groupOf(name: string, namedGroups: Readonly<Record<string, number>>): number | undefined {
  if (/^(0|[1-9][0-9]{0,7})$/.test(name)) return Number(name);
  return Object.hasOwn(namedGroups, name) ? namedGroups[name] : undefined;
}
