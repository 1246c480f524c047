import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pipelineJsonSchema } from '../../src/config/json-schema.ts';

describe('schemas/pipeline.schema.json', () => {
  it('is what the zod schema generates (run `npm run schemas` after changing the config schema)', () => {
    const committed = readFileSync(new URL('../../schemas/pipeline.schema.json', import.meta.url), 'utf8');
    expect(committed).toBe(pipelineJsonSchema());
  });

  it('documents durations as strings, as users write them', () => {
    const schema = JSON.parse(pipelineJsonSchema()) as {
      properties: { source: { properties: { session_timeout: { type: string; default: unknown } } } };
    };
    expect(schema.properties.source.properties.session_timeout).toMatchObject({ type: 'string', default: '30s' });
  });
});
