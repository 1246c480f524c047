import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { seededRandom } from '../seeded-random.ts';

/**
 * Realistic inference-service logs (vLLM / SGLang-style, one record per finished request),
 * deterministic for a seed, in the shape of schemas/model-serving-log.avsc; and their encoding
 * in the Confluent wire format.
 */
export interface ModelServingLog {
  request_id: string;
  timestamp: number;
  tenant_id: string;
  namespace: string;
  model: string;
  engine: string;
  engine_version: string | null;
  pod: string;
  node: string | null;
  gpu_type: string | null;
  tensor_parallel_size: number;
  queue_time_ms: number;
  prefill_time_ms: number;
  decode_time_ms: number;
  ttft_ms: number | null;
  e2e_latency_ms: number;
  batch_size: number;
  kv_cache_usage: number;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  tokens_per_second: number;
  status: string;
  finish_reason: string | null;
  error_type: string | null;
}

interface Deployment {
  readonly model: string;
  readonly engine: string;
  readonly engineVersion: string | null;
  readonly gpu: string;
  readonly tp: number;
  readonly pods: readonly string[];
  /** Decode speed of one sequence, tokens/s, at batch size 1. */
  readonly speed: number;
  /** tensorrt-llm here does not report a first-token time. */
  readonly reportsTtft: boolean;
}

const SHARED: readonly Omit<Deployment, 'pods'>[] = [
  { model: 'qwen2.5-72b-instruct', engine: 'vllm', engineVersion: '0.8.5', gpu: 'NVIDIA H800', tp: 4, speed: 38, reportsTtft: true },
  { model: 'llama-3.1-8b-instruct', engine: 'sglang', engineVersion: '0.4.6', gpu: 'NVIDIA A100-SXM4-80GB', tp: 1, speed: 110, reportsTtft: true },
  { model: 'deepseek-r1-distill-qwen-32b', engine: 'tensorrt-llm', engineVersion: null, gpu: 'NVIDIA H20', tp: 2, speed: 55, reportsTtft: false },
];

const ERRORS = ['OutOfMemoryError', 'TimeoutError', 'ValidationError'] as const;

/** The deployments a tenant's requests go to: the shared models, plus its own fine-tune. */
export function deploymentsOf(tenant: string): Deployment[] {
  const pods = (model: string, n: number, salt: string) =>
    Array.from({ length: n }, (_, i) => `${model.split('-').slice(0, 2).join('-').replace('.', '')}-${salt}-${'xkq7m2'.slice(i, i + 2)}${i}`);
  return [
    ...SHARED.map((d, i) => ({ ...d, pods: pods(d.model, 3 - (i % 2), ['7d9f', '5c4b', '66a1'][i]!) })),
    {
      model: `qwen2.5-7b-ft-${tenant}`,
      engine: 'vllm',
      engineVersion: '0.8.5',
      gpu: 'NVIDIA L20',
      tp: 1,
      speed: 95,
      reportsTtft: true,
      pods: [`ft-${tenant}-0`, `ft-${tenant}-1`],
    },
  ];
}

export interface ServingTrafficOptions {
  readonly seed: number;
  readonly tenants: readonly string[];
  readonly startMs: number;
  readonly spanMs: number;
  readonly count: number;
}

export function generateServingLogs(options: ServingTrafficOptions): ModelServingLog[] {
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
  const deployments = new Map(options.tenants.map((t) => [t, deploymentsOf(t)]));
  const step = options.spanMs / options.count;
  const out: ModelServingLog[] = [];
  for (let i = 0; i < options.count; i++) {
    const tenant = options.tenants[Math.min(options.tenants.length - 1, Math.floor(random() ** 1.4 * options.tenants.length))]!;
    const deployment = pick(deployments.get(tenant)!);
    const pod = pick(deployment.pods);
    const roll = random();
    const status = roll < 0.9 ? 'ok' : roll < 0.96 ? 'error' : 'aborted';
    const errorType = status === 'error' ? pick(ERRORS) : null;
    const inputTokens = Math.round(30 + random() * random() * 7000);
    const cached = random() < 0.35 ? Math.floor(inputTokens * random() * 0.9) : 0;
    const batch = 1 + Math.floor(random() * random() * 192);
    const load = Math.min(1, batch / 192 + random() * 0.3);
    // Failed before the first token (validation, OOM at prefill), or aborted while queued: no TTFT.
    const generated = status === 'ok' || (status === 'aborted' && random() < 0.6) || (errorType === 'TimeoutError' && random() < 0.7);
    const queueMs = round(Math.exp(random() * 8 - 1.5) * (0.2 + load), 3);
    const prefillMs = errorType === 'ValidationError' ? round(random() * 3, 3) : round(((inputTokens - cached) / 9000) * 1000 * (0.6 + random()) + 2 + random(), 3);
    const outputTokens = generated ? (status === 'ok' ? 1 + Math.round(random() * random() * 1800) : Math.round(random() * 300)) : 0;
    const perSeq = deployment.speed * (1.2 - load * 0.7) * (0.8 + random() * 0.4);
    const decodeMs = outputTokens > 0 ? round((outputTokens / perSeq) * 1000, 3) : 0;
    const e2eMs = round(queueMs + prefillMs + decodeMs + random() * 4, 3);
    const ttftMs = generated && deployment.reportsTtft ? round(queueMs + prefillMs + random() * 25, 3) : null;
    out.push({
      request_id: `cmpl-${options.seed.toString(16)}${i.toString(16).padStart(6, '0')}${Math.floor(random() * 0xffff).toString(16).padStart(4, '0')}`,
      timestamp: Math.floor(options.startMs + i * step),
      tenant_id: tenant,
      namespace: `llm-serving-${tenant}`,
      model: deployment.model,
      engine: deployment.engine,
      engine_version: deployment.engineVersion,
      pod,
      node: random() < 0.9 ? `gpu-node-${10 + Math.floor(random() * 24)}` : null,
      gpu_type: deployment.gpu,
      tensor_parallel_size: deployment.tp,
      queue_time_ms: queueMs,
      prefill_time_ms: prefillMs,
      decode_time_ms: decodeMs,
      ttft_ms: ttftMs,
      e2e_latency_ms: e2eMs,
      batch_size: batch,
      kv_cache_usage: round(Math.min(1, load * (0.7 + random() * 0.35)), 4),
      input_tokens: inputTokens,
      output_tokens: outputTokens,
      cached_tokens: cached,
      tokens_per_second: decodeMs > 0 ? round(outputTokens / (decodeMs / 1000), 3) : 0,
      status,
      finish_reason: status === 'ok' ? (random() < 0.85 ? 'stop' : 'length') : status === 'aborted' ? 'abort' : null,
      error_type: errorType,
    });
  }
  return out;
}

/** The avsc type of schemas/model-serving-log.avsc (unions unwrapped: null or the value). */
export function servingLogType(): avro.Type {
  const schema = JSON.parse(readFileSync(new URL('../../../schemas/model-serving-log.avsc', import.meta.url), 'utf8')) as avro.Schema;
  return avro.Type.forSchema(schema, { wrapUnions: false });
}

/** Confluent wire format: magic byte 0x00, the schema id as 4 bytes big-endian, the Avro body. */
export function confluentFrame(schemaId: number, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(0, 0);
  header.writeUInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}
