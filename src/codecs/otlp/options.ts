import { z } from 'zod';

export const keepContentAttributes = z
  .boolean()
  .default(false)
  .describe(
    'Keep prompt / completion / tool-call content attributes (gen_ai.input.messages, gen_ai.output.messages, ' +
      'gen_ai.system_instructions, gen_ai.prompt, gen_ai.completion, *.content, ...). Off by default: they are dropped ' +
      'while decoding, so user text can never become a label by accident.',
  );
