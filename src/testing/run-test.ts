import type { DeadLetterReason } from '../core/dead-letter-reason.ts';
import type { Sample } from '../core/types.ts';
import type { LoadedPipeline } from '../config/load.ts';
import type { PipelineConfig } from '../config/schema.ts';
import type { PipelineTest } from './config.ts';
import { InputEncoder, InputError } from './encode-input.ts';
import { buildPipelineParts, OfflinePipeline, type PipelineParts } from './offline-pipeline.ts';

/** One dead-lettered input message: which one, and every reason its records were refused for. */
export interface ObservedDeadLetter {
  readonly input: number;
  readonly reasons: readonly DeadLetterReason[];
}

/** What a pipeline produced for a test's inputs once every window closed. */
export interface TestOutput {
  readonly samples: ReadonlyMap<string, readonly Sample[]>;
  readonly deadLetters: readonly ObservedDeadLetter[];
}

/** Everything built once per pipeline file and shared by its tests. */
export interface TestPipeline extends PipelineParts {
  readonly encoder: InputEncoder;
}

export function buildTestPipeline(loaded: LoadedPipeline): TestPipeline {
  return { ...buildPipelineParts(loaded), encoder: new InputEncoder(loaded.config.decode, loaded.baseDir) };
}

/**
 * Runs one test offline through the pipeline's own code (see OfflinePipeline). Each input is a
 * stage-1 transaction of its own (its partials reach stage 2 and its partition's watermark is
 * announced), so windows fire as the inputs' event times pass them, as in production.
 *
 * Throws InputError for an input that cannot be encoded for the pipeline's codec.
 */
export function runPipelineTest(pipeline: TestPipeline, test: PipelineTest): TestOutput {
  const samples = new Map<string, Sample[]>();
  const emitter = {
    emit(tenant: string, emitted: Sample[]) {
      const list = samples.get(tenant);
      if (list) list.push(...emitted);
      else samples.set(tenant, [...emitted]);
    },
  };
  const sources = test.inputs.map((input, index) => `${topicOf(pipeline.config, input.topic, index)}/${input.partition}`);
  const offline = new OfflinePipeline(pipeline, sources, emitter);
  const deadLetters: ObservedDeadLetter[] = [];
  test.inputs.forEach((input, index) => {
    const value = pipeline.encoder.encode(input);
    const context = { key: input.key === undefined ? null : Buffer.from(input.key, 'utf8'), headers: input.headers };
    const rejected = offline.add(sources[index]!, value, context);
    if (rejected.length > 0) deadLetters.push({ input: index, reasons: [...new Set(rejected.map((r) => r.reason))] });
    offline.flush(sources[index]!);
  });
  offline.finish();
  return { samples, deadLetters };
}

function topicOf(config: PipelineConfig, topic: string | undefined, index: number): string {
  const topics = config.source.topics;
  if (topic === undefined) {
    if (topics.length === 1) return topics[0]!;
    throw new InputError(`input ${index} names no topic, and the pipeline reads ${topics.length} (${topics.join(', ')})`);
  }
  if (!topics.includes(topic)) throw new InputError(`input ${index}: topic ${topic} is not one of source.topics (${topics.join(', ')})`);
  return topic;
}
