import { z } from 'zod';
import { pipelineSchema } from './schema.ts';

/**
 * The pipeline JSON Schema for editors, generated from the zod schema that validates pipelines,
 * so the two cannot drift. It describes what a user writes (the input side: `"30s"`, not 30000).
 */
export function pipelineJsonSchema(): string {
  const schema = z.toJSONSchema(pipelineSchema, { io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify({ ...schema, title: 'Sluice pipeline', $id: 'https://sluice.dev/schemas/pipeline.schema.json' }, null, 2)}\n`;
}
