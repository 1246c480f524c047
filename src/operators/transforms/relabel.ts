import { z } from 'zod';

/**
 * Prometheus `relabel_configs` over a record's label map, with the metric name as `__name__`:
 * the same actions, defaults and anchored regexes, so rules copied from a scrape config behave
 * the same here. Applied to records decoded from the exposition format (`name`, `labels`).
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
        try {
          new RegExp(`^(?:${source})$`);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: `invalid regex: ${(error as Error).message}` });
        }
      })
      .describe('Regular expression, anchored at both ends.'),
    target_label: z.string().optional().describe('Label written by replace, lowercase and uppercase.'),
    replacement: z.string().default('$1').describe('Replacement; `$1` / `${1}` refer to regex groups.'),
  })
  .strict()
  .refine((r) => !['replace', 'lowercase', 'uppercase'].includes(r.action) || r.target_label !== undefined, {
    message: 'target_label is required for replace, lowercase and uppercase',
    path: ['target_label'],
  });

export type RelabelRule = z.output<typeof relabelRuleSchema>;

/** Applies the rules in order; returns false when a keep/drop rule drops the record. */
export type Relabeler = (record: Record<string, unknown>) => boolean;

export function compileRelabel(rules: readonly RelabelRule[]): Relabeler {
  const compiled = rules.map((rule) => ({
    ...rule,
    pattern: new RegExp(`^(?:${rule.regex})$`),
    // Prometheus writes ${1}; JavaScript's replace understands $1.
    replacement: rule.replacement.replace(/\$\{(\w+)\}/g, '$$$1'),
  }));
  return (record) => {
    const labels = labelsOf(record);
    if (!labels) return false;
    labels.__name__ = String(record.name ?? '');
    for (const rule of compiled) {
      const value = rule.source_labels.map((name) => labels[name] ?? '').join(rule.separator);
      switch (rule.action) {
        case 'keep':
          if (!rule.pattern.test(value)) return false;
          break;
        case 'drop':
          if (rule.pattern.test(value)) return false;
          break;
        case 'replace': {
          const match = rule.pattern.exec(value);
          if (!match) break;
          const target = value.replace(rule.pattern, rule.target_label!.replace(/\$\{(\w+)\}/g, '$$$1'));
          const result = value.replace(rule.pattern, rule.replacement);
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
            if (rule.pattern.test(name)) labels[name.replace(rule.pattern, rule.replacement)] = labels[name]!;
          }
          break;
        case 'labeldrop':
          for (const name of Object.keys(labels)) if (rule.pattern.test(name)) delete labels[name];
          break;
        case 'labelkeep':
          for (const name of Object.keys(labels)) if (name !== '__name__' && !rule.pattern.test(name)) delete labels[name];
          break;
      }
    }
    record.name = labels.__name__;
    delete labels.__name__;
    return true;
  };
}

/** The record's own, mutable label map (decoders hand out fresh objects per record). */
function labelsOf(record: Record<string, unknown>): Record<string, string> | undefined {
  const labels = record.labels;
  if (labels === null || typeof labels !== 'object') return undefined;
  return labels as Record<string, string>;
}
