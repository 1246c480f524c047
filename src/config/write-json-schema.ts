// `npm run schemas`: regenerates schemas/pipeline.schema.json from the zod schema.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pipelineJsonSchema } from './json-schema.ts';

const target = fileURLToPath(new URL('../../schemas/pipeline.schema.json', import.meta.url));
writeFileSync(target, pipelineJsonSchema());
process.stdout.write(`wrote ${target}\n`);
