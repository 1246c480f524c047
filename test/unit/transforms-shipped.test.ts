import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from '@marcbachmann/cel-js';
import { describe, expect, it } from 'vitest';
import { parsePipeline } from '../../src/config/load.ts';
import { compileExpression } from '../../src/operators/transforms/expression.ts';
import { compileTransforms, type TransformConfig, type TransformOutcome } from '../../src/operators/transforms/index.ts';
import { compileRelabel } from '../../src/operators/transforms/relabel.ts';

/*
 * Every expression of every shipped pipeline gives the same results through the metered
 * environment as through cel-js's plain `parse` (the evaluator before the budget), on records
 * shaped like each pipeline's input. Relabel results are pinned literally below.
 */

const dir = fileURLToPath(new URL('../../pipelines/', import.meta.url));
const pipelines = readdirSync(dir)
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

const samples: Record<string, Record<string, unknown>[]> = {
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

/** The transforms as they ran before the budget: cel-js's plain parse, constants shadowing fields. */
function reference(transforms: readonly TransformConfig[], constants: Record<string, unknown>) {
  const context = (record: Record<string, unknown>) => ({ ...record, ...constants });
  const steps = transforms.map((step) => {
    if ('filter' in step) {
      const filter = parse(step.filter);
      return (record: Record<string, unknown>): TransformOutcome => (filter(context(record)) === true ? 'keep' : 'drop');
    }
    if ('compute' in step) {
      const fields = Object.entries(step.compute).map(([field, source]) => [field, parse(source)] as const);
      return (record: Record<string, unknown>): TransformOutcome => {
        for (const [field, expression] of fields) {
          const value = expression(context(record));
          record[field] = typeof value === 'bigint' ? Number(value) : value;
        }
        return 'keep';
      };
    }
    const relabel = compileRelabel(step.relabel);
    return (record: Record<string, unknown>): TransformOutcome => (relabel(record) ? 'keep' : 'drop');
  });
  return (record: Record<string, unknown>): TransformOutcome => {
    for (const step of steps) {
      const outcome = step(record);
      if (outcome !== 'keep') return outcome;
    }
    return 'keep';
  };
}

describe('shipped pipelines give the same results through the metered evaluator', () => {
  it('has samples for every shipped pipeline', () => {
    expect(pipelines.map((p) => p.file).sort()).toEqual(Object.keys(samples).sort());
  });

  it.each(pipelines)('$file: transforms', ({ file, config }) => {
    const run = compileTransforms(config.transforms, config.constants, config.expression_budget);
    const expected = reference(config.transforms, config.constants);
    for (const sample of samples[file]!) {
      const ours = structuredClone(sample);
      const theirs = structuredClone(sample);
      expect(run ? run(ours) : 'keep').toEqual(expected(theirs));
      expect(ours).toEqual(theirs);
    }
  });

  it.each(pipelines)('$file: metric filters', ({ file, config }) => {
    const filters = config.metrics.flatMap((metric) => ('filter' in metric && metric.filter !== undefined ? [metric.filter] : []));
    for (const source of filters) {
      const ours = compileExpression(source);
      const theirs = parse(source);
      for (const sample of samples[file]!) {
        const outcome = (evaluate: (context: Record<string, unknown>) => unknown) => {
          try {
            return { value: evaluate(structuredClone(sample)) };
          } catch {
            return { error: true };
          }
        };
        expect(outcome(ours), source).toEqual(outcome(theirs));
      }
    }
  });

  it('gpu-rdma relabelling gives the documented labels', () => {
    const config = pipelines.find((p) => p.file === 'gpu-rdma.yaml')!.config;
    const run = compileTransforms(config.transforms, config.constants, config.expression_budget)!;
    const [dcgm, ib, emptyNamespace, other] = samples['gpu-rdma.yaml']!.map((s) => structuredClone(s));
    expect(run(dcgm!)).toBe('keep');
    expect(dcgm).toEqual({
      name: 'DCGM_FI_DEV_GPU_UTIL',
      labels: { gpu: '0', hostname: 'gpu-node-17', namespace: 'llm-serving' },
      value: 87,
      tenant_key: 'ns/llm-serving',
    });
    expect(run(ib!)).toBe('keep');
    expect(ib).toMatchObject({ labels: { device: 'mlx5_0', port: '1', instance: 'ib-node-01', hostname: 'ib-node-01' }, tenant_key: 'node/ib-node-01' });
    expect(run(emptyNamespace!)).toBe('keep');
    expect(emptyNamespace).toMatchObject({ tenant_key: 'node/gpu-node-18' });
    expect(run(other!)).toBe('drop');
  });
});
