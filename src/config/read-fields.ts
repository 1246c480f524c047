import { FIELD_PATH, fieldPathSegments } from '../core/field-path.ts';
import { expressionIdentifiers } from '../operators/transforms/expression.ts';
import type { PipelineConfig } from './schema.ts';

/**
 * The top-level record fields a pipeline can read, so its decoder may leave the others out of
 * its records (DecoderOptions.readFields); undefined when it may read any field.
 *
 * Taken wide on purpose: every string of the parsed config, keys included, is a candidate. One
 * that is a field path adds its first segment; one that is a CEL expression adds every name it
 * uses. So a metric kind, a transform or an option added later needs no list kept here: naming a
 * field anywhere in the config is enough to have it decoded. The strings that are not fields (help
 * texts, label names, constants) only add names no record has. The pipeline's own `tests` are
 * left out: their records are data, not reads. A `relabel` transform reads every field
 * (`labelmap`, `labeldrop` and `__name__` rules), and so keeps the whole record.
 */
export function fieldsThePipelineReads(config: PipelineConfig): string[] | undefined {
  if (config.transforms.some((transform) => 'relabel' in transform)) return undefined;
  const fields = new Set<string>();
  const visit = (value: unknown): void => {
    if (typeof value === 'string') addFieldsOf(value, fields);
    else if (Array.isArray(value)) value.forEach(visit);
    else if (value !== null && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        addFieldsOf(key, fields);
        visit(inner);
      }
    }
  };
  const { tests: _data, ...reads } = config;
  visit(reads);
  return [...fields];
}

function addFieldsOf(text: string, fields: Set<string>): void {
  if (FIELD_PATH.test(text)) fields.add(fieldPathSegments(text)[0]!);
  else for (const name of expressionIdentifiers(text) ?? []) fields.add(name);
}
