import type { AttributeValue } from '@opentelemetry/api';
import type { GenAiSpanFacts } from './genai-traces.ts';
import { WindowedOracle, type Labels } from './windowed-oracle.ts';

/**
 * What pipelines/llm-traces.yaml must deliver for the GenAI spans of accepted messages, by the
 * OpenTelemetry GenAI metric definitions as the YAML names them: event time = span end,
 * 15 s tumbling windows, label values that are empty are absent.
 */
export const TRACES_WINDOW_MS = 15_000;

const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
const DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];
const TPOT_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5];

export interface DerivedGenAi {
  readonly tenant: string;
  readonly eventTimeMs: number;
  readonly labels: Labels;
  readonly errorType: string | undefined;
  readonly durationSeconds: number;
  readonly inputTokens: number | undefined;
  readonly outputTokens: number | undefined;
  readonly ttftSeconds: number | undefined;
  /** (duration − TTFT) / (output tokens − 1), for spans with a TTFT and more than one output token. */
  readonly tpotSeconds: number | undefined;
}

/** The GenAI metric inputs of one span, from what was put on it. */
export function deriveGenAi(span: GenAiSpanFacts): DerivedGenAi {
  const a = span.attributes;
  const str = (v: AttributeValue | undefined) => (v === undefined ? undefined : String(v));
  const num = (v: AttributeValue | undefined) => (typeof v === 'number' ? v : undefined);
  const durationSeconds = Number(span.endNs - span.startNs) / 1e9;
  const inputTokens = num(a['gen_ai.usage.input_tokens']) ?? num(a['gen_ai.usage.prompt_tokens']);
  const outputTokens = num(a['gen_ai.usage.output_tokens']) ?? num(a['gen_ai.usage.completion_tokens']);
  const ttftSeconds = num(a['gen_ai.server.time_to_first_token']);
  const errorType = str(a['error.type']) ?? (span.statusCode === 'ERROR' ? '_OTHER' : undefined);
  return {
    tenant: span.tenant,
    eventTimeMs: Number(span.endNs / 1_000_000n),
    labels: {
      gen_ai_operation_name: str(a['gen_ai.operation.name']),
      gen_ai_provider_name: str(a['gen_ai.provider.name']) ?? str(a['gen_ai.system']),
      gen_ai_request_model: str(a['gen_ai.request.model']),
      gen_ai_response_model: str(a['gen_ai.response.model']),
    },
    errorType,
    durationSeconds,
    inputTokens,
    outputTokens,
    ttftSeconds,
    tpotSeconds: ttftSeconds !== undefined && outputTokens !== undefined && outputTokens > 1 ? (durationSeconds - ttftSeconds) / (outputTokens - 1) : undefined,
  };
}

export function llmTracesOracle(spans: readonly GenAiSpanFacts[]): WindowedOracle {
  const oracle = new WindowedOracle(TRACES_WINDOW_MS);
  for (const span of spans) {
    const d = deriveGenAi(span);
    const { tenant: t, eventTimeMs: at, labels } = d;
    if (d.inputTokens !== undefined) oracle.histogram(t, 'gen_ai_client_token_usage', { ...labels, gen_ai_token_type: 'input' }, TOKEN_BUCKETS, at, d.inputTokens);
    if (d.outputTokens !== undefined) oracle.histogram(t, 'gen_ai_client_token_usage', { ...labels, gen_ai_token_type: 'output' }, TOKEN_BUCKETS, at, d.outputTokens);
    oracle.histogram(t, 'gen_ai_client_operation_duration_seconds', { ...labels, error_type: d.errorType }, DURATION_BUCKETS, at, d.durationSeconds);
    if (d.ttftSeconds !== undefined) oracle.histogram(t, 'gen_ai_server_time_to_first_token_seconds', labels, TTFT_BUCKETS, at, d.ttftSeconds);
    if (d.tpotSeconds !== undefined) oracle.histogram(t, 'gen_ai_server_time_per_output_token_seconds', labels, TPOT_BUCKETS, at, d.tpotSeconds);
  }
  return oracle;
}
