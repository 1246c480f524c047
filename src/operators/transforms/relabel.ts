import { z } from 'zod';
import { compileTemplate } from './expand-template.ts';
import { MatchCache } from './match-cache.ts';
import { compileRe2, re2Problem } from './re2.ts';

/**
 * Prometheus `relabel_configs` over a record's label map, with the metric name as `__name__`:
 * the same actions, defaults, RE2 regexes anchored as Prometheus anchors them (`^(?:regex)$`)
 * and Go's `$1` / `${name}` expansion, so rules copied from a scrape config behave the same here.
 * RE2 matches in time linear in the label value, whatever the pattern. Applied to records
 * decoded from the exposition format (`name`, `labels`).
 */
export const relabelRuleSchema = z
  .object({
    action: z
      .enum(['replace', 'keep', 'drop', 'labelmap', 'labeldrop', 'labelkeep', 'lowercase', 'uppercase'])
      .default('replace')
      .describe('What the rule does, as in Prometheus.'),
    source_labels: z.array(z.string()).default([]).describe('Labels whose values, joined by `separator`, are matched.'),
    separator: z.string().default(';').describe('Joins the source label values.'),
    regex: z
      .string()
      .default('(.*)')
      .superRefine((source, ctx) => {
        const problem = re2Problem(anchored(source));
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `invalid regex (RE2 syntax): ${problem}` });
      })
      .describe('Regular expression in RE2 syntax (as Prometheus), anchored at both ends.'),
    target_label: z.string().optional().describe('Label written by replace, lowercase and uppercase.'),
    replacement: z.string().default('$1').describe('Replacement; `$1` / `${1}` / `${name}` refer to regex groups, as in Go.'),
  })
  .strict()
  .refine((r) => !['replace', 'lowercase', 'uppercase'].includes(r.action) || r.target_label !== undefined, {
    message: 'target_label is required for replace, lowercase and uppercase',
    path: ['target_label'],
  });

export type RelabelRule = z.output<typeof relabelRuleSchema>;

/** Applies the rules in order; returns false when a keep/drop rule drops the record. */
export type Relabeler = (record: Record<string, unknown>) => boolean;

/** Label names a replace may write, as Prometheus 2 validates them. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function compileRelabel(rules: readonly RelabelRule[]): Relabeler {
  const compiled = rules.map((rule) => {
    const pattern = compileRe2(anchored(rule.regex));
    const groups = pattern.namedGroups();
    const tests = new MatchCache((input) => pattern.test(input));
    // null (no match) is cached as false: the cache treats undefined as "not known".
    const execs = new MatchCache((input): readonly (string | undefined)[] | false => pattern.exec(input) ?? false);
    return {
      ...rule,
      test: (input: string) => tests.get(input),
      exec: (input: string) => execs.get(input) || undefined,
      target: compileTemplate(rule.target_label ?? '', groups),
      replacement: compileTemplate(rule.replacement, groups),
    };
  });
  return (record) => {
    const labels = labelsOf(record);
    if (!labels) return false;
    labels.__name__ = String(record.name ?? '');
    for (const rule of compiled) {
      const value = rule.source_labels.map((name) => labels[name] ?? '').join(rule.separator);
      switch (rule.action) {
        case 'keep':
          if (!rule.test(value)) return false;
          break;
        case 'drop':
          if (rule.test(value)) return false;
          break;
        case 'replace': {
          const match = rule.exec(value);
          if (!match) break;
          const target = rule.target(match);
          if (!LABEL_NAME.test(target)) break;
          const result = rule.replacement(match);
          if (result === '') delete labels[target];
          else labels[target] = result;
          break;
        }
        case 'lowercase':
        case 'uppercase':
          labels[rule.target_label!] = rule.action === 'lowercase' ? value.toLowerCase() : value.toUpperCase();
          break;
        case 'labelmap':
          for (const name of Object.keys(labels)) {
            const match = rule.exec(name);
            if (match) labels[rule.replacement(match)] = labels[name]!;
          }
          break;
        case 'labeldrop':
          for (const name of Object.keys(labels)) if (rule.test(name)) delete labels[name];
          break;
        case 'labelkeep':
          for (const name of Object.keys(labels)) if (name !== '__name__' && !rule.test(name)) delete labels[name];
          break;
      }
    }
    record.name = labels.__name__;
    delete labels.__name__;
    return true;
  };
}

/** Prometheus anchors relabel regexes at both ends: `^(?:regex)$`. */
function anchored(regex: string): string {
  return `^(?:${regex})$`;
}

/** The record's own, mutable label map (decoders hand out fresh objects per record). */
function labelsOf(record: Record<string, unknown>): Record<string, string> | undefined {
  const labels = record.labels;
  if (labels === null || typeof labels !== 'object') return undefined;
  return labels as Record<string, string>;
}
