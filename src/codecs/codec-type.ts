/**
 * What a codec is to the registry (index.ts): its `decode:` options schema and a factory. Each
 * codec's folder defines one in its index.ts; the registry lists them, one line each.
 */
import type { z } from 'zod';
import type { Decoder, DecoderOptions } from './decoder.ts';

/** A `decode:` options schema: an object whose `codec` is a literal, so the registry can discriminate on it. */
export type CodecConfigSchema = z.core.$ZodTypeDiscriminable & z.ZodType<{ readonly codec: string }>;

export interface CodecType<Schema extends CodecConfigSchema> {
  readonly codec: z.output<Schema>['codec'];
  /** The options under `decode:`, `codec` among them. */
  readonly schema: Schema;
  /** Builds the decoder once: schema files are read, parsed and compiled here. */
  create(config: z.output<Schema>, options: DecoderOptions): Decoder;
}
