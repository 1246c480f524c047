import type { AttributeValue } from '@opentelemetry/api';
import type { GenAiSpanFacts } from './genai-traces.ts';
import { WindowedOracle, type Labels } from './windowed-oracle.ts';

/**
 * What pipelines/llm-traces.yaml (current GenAI conventions) and llm-traces-v1.41.yaml (the v1.41
 * names) must deliver for the GenAI spans of accepted messages: event time = span end, 15 s
 * tumbling windows, label values that are empty are absent. Normalisation as the YAML's: Traceloop's
 * llm.request.type → operation, provider lower-cased and mapped to registry names, "<class 'a.B'>"
 * error types → "B".
 */
export const TRACES_WINDOW_MS = 15_000;

const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
const DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];
const TPOT_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5];
const AGENT_BUCKETS = [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 102.4, 204.8, 409.6];
const WORKFLOW_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 7200];
const CALL_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128];

/** As the YAML's constants (a subset: what the test traffic uses). */
const PROVIDER_NAMES: Record<string, string> = { openai: 'openai', 'az.ai.openai': 'azure.ai.openai', anthropic: 'anthropic' };
const REQUEST_TYPES: Record<string, string> = { chat: 'chat', completion: 'text_completion', embedding: 'embeddings' };
export const PRICES: Record<string, { input: number; cache_read: number; output: number }> = {
  'gpt-4o-mini': { input: 0.15, cache_read: 0.075, output: 0.6 },
  'gpt-4o': { input: 2.5, cache_read: 1.25, output: 10.0 },
  'gpt-4.1': { input: 2.0, cache_read: 0.5, output: 8.0 },
  'qwen-plus': { input: 0.4, cache_read: 0.16, output: 1.2 },
  'claude-3-5-haiku-latest': { input: 0.8, cache_read: 0.08, output: 4.0 },
};
const CHUNK_EVENTS = new Set(['llm.content.completion.chunk', 'gen_ai.content.chunk']);

export interface DerivedGenAi {
  readonly tenant: string;
  readonly eventTimeMs: number;
  readonly operation: string;
  readonly inference: boolean;
  readonly labels: Labels;
  readonly errorType: string | undefined;
  readonly durationSeconds: number;
  readonly inputTokens: number | undefined;
  readonly outputTokens: number | undefined;
  readonly cacheReadTokens: number | undefined;
  readonly ttftSeconds: number | undefined;
  /** Mean gap between chunk events; else (duration − TTFT) / (output tokens − 1) for a TTFT attribute. */
  readonly tpocSeconds: number | undefined;
}

/** The GenAI metric inputs of one span, from what was put on it. */
export function deriveGenAi(span: GenAiSpanFacts): DerivedGenAi {
  const a = span.attributes;
  const num = (v: AttributeValue | undefined) => (typeof v === 'number' ? v : undefined);
  const durationSeconds = Number(span.endNs - span.startNs) / 1e9;
  const inputTokens = num(a['gen_ai.usage.input_tokens']) ?? num(a['gen_ai.usage.prompt_tokens']);
  const outputTokens = num(a['gen_ai.usage.output_tokens']) ?? num(a['gen_ai.usage.completion_tokens']);
  const requestType = str(a['llm.request.type']);
  const operation = str(a['gen_ai.operation.name']) ?? (requestType !== undefined ? REQUEST_TYPES[requestType] : undefined) ?? '';
  const rawProvider = (str(a['gen_ai.provider.name']) ?? str(a['gen_ai.system']) ?? '').toLowerCase();
  const rawError = str(a['error.type']) ?? (span.statusCode === 'ERROR' ? '_OTHER' : undefined);
  const classMatch = rawError === undefined ? null : /^<class '(?:.*\.)?([^.]*)'>$/.exec(rawError);
  const ms = (ns: bigint) => Number(ns / 1_000_000n);
  const chunks = span.events.filter((e) => CHUNK_EVENTS.has(e.name)).map((e) => ms(e.timeNs));
  const ttftAttribute = num(a['gen_ai.response.time_to_first_chunk']) ?? num(a['gen_ai.server.time_to_first_token']) ?? num(a['gen_ai.latency.time_to_first_token']);
  const ttftSeconds = ttftAttribute ?? (chunks.length > 0 ? (chunks[0]! - ms(span.startNs)) / 1000 : undefined);
  const tpocSeconds =
    chunks.length > 1
      ? (chunks.at(-1)! - chunks[0]!) / 1000 / (chunks.length - 1)
      : chunks.length === 0 && ttftSeconds !== undefined && outputTokens !== undefined && outputTokens > 1
        ? (durationSeconds - ttftSeconds) / (outputTokens - 1)
        : undefined;
  return {
    tenant: span.tenant,
    eventTimeMs: ms(span.endNs),
    operation,
    inference: ['chat', 'generate_content', 'text_completion', ''].includes(operation),
    labels: {
      gen_ai_operation_name: operation,
      gen_ai_provider_name: PROVIDER_NAMES[rawProvider] ?? rawProvider,
      gen_ai_request_model: str(a['gen_ai.request.model']),
      gen_ai_response_model: str(a['gen_ai.response.model']),
    },
    errorType: classMatch ? classMatch[1] : rawError,
    durationSeconds,
    inputTokens,
    outputTokens,
    cacheReadTokens: num(a['gen_ai.usage.cache_read.input_tokens']) ?? num(a['gen_ai.usage.cache_read_input_tokens']),
    ttftSeconds,
    tpocSeconds,
  };
}

/** The current conventions (pipelines/llm-traces.yaml). */
export function llmTracesOracle(spans: readonly GenAiSpanFacts[]): WindowedOracle {
  const oracle = new WindowedOracle(TRACES_WINDOW_MS);
  const children = directChildren(spans);
  for (const span of spans) {
    const d = deriveGenAi(span);
    const { tenant: t, eventTimeMs: at, labels } = d;
    const a = span.attributes;
    const withError = { ...labels, error_type: d.errorType };
    if (d.inference) {
      oracle.histogram(t, 'gen_ai_client_inference_duration_seconds', withError, DURATION_BUCKETS, at, d.durationSeconds);
      if (d.ttftSeconds !== undefined) oracle.histogram(t, 'gen_ai_client_inference_time_to_first_chunk_seconds', labels, TTFT_BUCKETS, at, d.ttftSeconds);
      if (d.tpocSeconds !== undefined) oracle.histogram(t, 'gen_ai_client_inference_time_per_output_chunk_seconds', labels, DURATION_BUCKETS, at, d.tpocSeconds);
      if (d.inputTokens !== undefined) {
        oracle.histogram(t, 'gen_ai_client_inference_operation_input_tokens', labels, TOKEN_BUCKETS, at, d.inputTokens);
        oracle.counter(t, 'gen_ai_client_inference_usage_input_tokens_total', labels, at, d.inputTokens);
      }
      if (d.outputTokens !== undefined) {
        oracle.histogram(t, 'gen_ai_client_inference_operation_output_tokens', labels, TOKEN_BUCKETS, at, d.outputTokens);
        oracle.counter(t, 'gen_ai_client_inference_usage_output_tokens_total', labels, at, d.outputTokens);
      }
      if (d.cacheReadTokens !== undefined) oracle.counter(t, 'gen_ai_client_inference_usage_cache_read_input_tokens_total', labels, at, d.cacheReadTokens);
      const price = PRICES[String(labels['gen_ai_request_model'])];
      const costLabels = (kind: string) => ({ gen_ai_provider_name: labels['gen_ai_provider_name'], gen_ai_request_model: labels['gen_ai_request_model'], gen_ai_token_type: kind });
      if (price && d.inputTokens !== undefined) oracle.counter(t, 'gen_ai_usage_cost_total', costLabels('input'), at, ((d.inputTokens - (d.cacheReadTokens ?? 0)) * price.input) / 1e6);
      if (price && d.cacheReadTokens !== undefined && d.cacheReadTokens > 0) oracle.counter(t, 'gen_ai_usage_cost_total', costLabels('cache_read'), at, (d.cacheReadTokens * price.cache_read) / 1e6);
      if (price && d.outputTokens !== undefined) oracle.counter(t, 'gen_ai_usage_cost_total', costLabels('output'), at, (d.outputTokens * price.output) / 1e6);
    } else if (d.operation === 'invoke_agent') {
      oracle.histogram(t, 'gen_ai_invoke_agent_duration_seconds', { gen_ai_agent_name: String(a['gen_ai.agent.name'] ?? ''), gen_ai_request_model: labels['gen_ai_request_model'], error_type: d.errorType }, AGENT_BUCKETS, at, d.durationSeconds);
      const mine = children.get(`${span.traceId}/${span.spanId}`) ?? [];
      oracle.histogram(t, 'gen_ai_invoke_agent_inference_calls', {}, CALL_BUCKETS, at, mine.filter((c) => c.inference).length);
      oracle.histogram(t, 'gen_ai_invoke_agent_tool_calls', {}, CALL_BUCKETS, at, mine.filter((c) => c.operation === 'execute_tool').length);
    } else if (d.operation === 'execute_tool') {
      oracle.histogram(t, 'gen_ai_execute_tool_duration_seconds', { gen_ai_tool_name: str(a['gen_ai.tool.name']), gen_ai_tool_type: str(a['gen_ai.tool.type']), error_type: d.errorType }, DURATION_BUCKETS, at, d.durationSeconds);
    } else if (d.operation === 'invoke_workflow') {
      oracle.histogram(t, 'gen_ai_invoke_workflow_duration_seconds', { gen_ai_workflow_name: str(a['gen_ai.workflow.name']), error_type: d.errorType }, WORKFLOW_BUCKETS, at, d.durationSeconds);
    } else if (d.operation !== 'create_agent') {
      oracle.histogram(t, 'gen_ai_client_operation_duration_seconds', withError, DURATION_BUCKETS, at, d.durationSeconds);
    }
  }
  return oracle;
}

function str(v: AttributeValue | undefined): string | undefined {
  return v === undefined ? undefined : String(v);
}

/** Inference and tool spans by their parent's `traceId/spanId`. */
function directChildren(spans: readonly GenAiSpanFacts[]): Map<string, DerivedGenAi[]> {
  const byParent = new Map<string, DerivedGenAi[]>();
  for (const span of spans) {
    if (span.parentSpanId === '') continue;
    const key = `${span.traceId}/${span.parentSpanId}`;
    const list = byParent.get(key) ?? [];
    list.push(deriveGenAi(span));
    byParent.set(key, list);
  }
  return byParent;
}

/** The v1.41 names (pipelines/llm-traces-v1.41.yaml): every GenAI span in the operation metrics. */
export function llmTracesV141Oracle(spans: readonly GenAiSpanFacts[]): WindowedOracle {
  const oracle = new WindowedOracle(TRACES_WINDOW_MS);
  for (const span of spans) {
    const d = deriveGenAi(span);
    const { tenant: t, eventTimeMs: at, labels } = d;
    if (d.inputTokens !== undefined) oracle.histogram(t, 'gen_ai_client_token_usage', { ...labels, gen_ai_token_type: 'input' }, TOKEN_BUCKETS, at, d.inputTokens);
    if (d.outputTokens !== undefined) oracle.histogram(t, 'gen_ai_client_token_usage', { ...labels, gen_ai_token_type: 'output' }, TOKEN_BUCKETS, at, d.outputTokens);
    oracle.histogram(t, 'gen_ai_client_operation_duration_seconds', { ...labels, error_type: d.errorType }, DURATION_BUCKETS, at, d.durationSeconds);
    if (d.ttftSeconds !== undefined) oracle.histogram(t, 'gen_ai_server_time_to_first_token_seconds', labels, TTFT_BUCKETS, at, d.ttftSeconds);
    if (d.tpocSeconds !== undefined) oracle.histogram(t, 'gen_ai_server_time_per_output_token_seconds', labels, TPOT_BUCKETS, at, d.tpocSeconds);
  }
  return oracle;
}
