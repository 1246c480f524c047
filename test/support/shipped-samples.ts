/**
 * Every shipped pipeline (pipelines/*.yaml), parsed, and records shaped like each one's input:
 * the fixtures the transform tests run every shipped expression on.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parsePipeline } from '../../src/config/load.ts';

const dir = fileURLToPath(new URL('../../pipelines/', import.meta.url));
export const pipelines = readdirSync(dir)
  .filter((file) => file.endsWith('.yaml'))
  .map((file) => ({ file, config: parsePipeline(readFileSync(dir + file, 'utf8'), dir + file, {}).config }));

const gateway = (over: Record<string, unknown>) => ({
  model: 'qwen-plus', api: 'chat', input_tokens: 1200, cached_tokens: 200, output_tokens: 300, stream: true,
  http_status: 200, latency_ms: 2500, ttft_ms: 300, error_code: null, ...over,
});
const span = (attributes: Record<string, unknown>, over: Record<string, unknown> = {}) => ({
  attributes, resource: { 'tenant.id': 'acme' }, status_code: 'OK', duration_seconds: 2.5, name: 'chat gpt-4o',
  trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331', parent_span_id: '',
  start_time_ms: 1_700_000_000_000, end_time_ms: 1_700_000_002_500, events: [], ...over,
});
const llmTraces = [
  span({ 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.response.model': 'gpt-4o-2024-08-06',
    'gen_ai.usage.input_tokens': 120, 'gen_ai.usage.output_tokens': 40, 'gen_ai.server.time_to_first_token': 0.25 }),
  span({ 'gen_ai.system': 'vllm', 'gen_ai.usage.prompt_tokens': 10, 'gen_ai.usage.completion_tokens': 1 }, { status_code: 'ERROR' }),
  span({ 'gen_ai.response.model': 'llama', 'gen_ai.latency.time_to_first_token': 0.1, 'gen_ai.usage.output_tokens': 5, 'error.type': "<class 'openai.RateLimitError'>" }),
  span({ 'llm.request.type': 'chat', 'gen_ai.system': 'OpenAI', 'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.usage.output_tokens': 3 }, {
    events: [{ name: 'llm.content.completion.chunk', time_ms: 1_700_000_000_300 }, { name: 'llm.content.completion.chunk', time_ms: 1_700_000_000_900 }],
  }),
  span({ 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'planner' }, { parent_span_id: '' }),
  span({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'search' }, { parent_span_id: 'b7ad6b7169203331', span_id: '00f067aa0ba902b7' }),
  span({ 'http.route': '/healthz' }),
];

export const samples: Record<string, Record<string, unknown>[]> = {
  'bailian-gateway.yaml': [
    gateway({}),
    gateway({ model: 'ft-custom-7b', stream: false, http_status: 429, error_code: 'Throttling.RateQuota', output_tokens: 0 }),
    gateway({ model: 'qwen-max', api: 'embeddings', http_status: 400, error_code: 'DataInspectionFailed', ttft_ms: null }),
    gateway({ model: 'deepseek-v3', output_tokens: 1 }),
  ],
  'llm-traces.yaml': llmTraces,
  'llm-traces-v1.41.yaml': llmTraces,
  'gpu-rdma.yaml': [
    { name: 'DCGM_FI_DEV_GPU_UTIL', labels: { gpu: '0', Hostname: 'gpu-node-17', namespace: 'llm-serving', pci_bus_id: '0000:3b:00.0' }, value: 87 },
    { name: 'node_infiniband_port_data_received_bytes_total', labels: { device: 'mlx5_0', port: '1', instance: 'ib-node-01' }, value: 1e12 },
    { name: 'DCGM_FI_DEV_FB_USED', labels: { gpu: '1', Hostname: 'gpu-node-18', namespace: '' }, value: 1024 },
    { name: 'go_goroutines', labels: { instance: 'gpu-node-17' }, value: 12 },
  ],
  'model-serving.yaml': [
    { ttft_ms: 120.0, output_tokens: 64.0 },
    { ttft_ms: null, output_tokens: 0.0 },
  ],
};
