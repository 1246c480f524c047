import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadPipelineFile } from '../../src/config/load.ts';

const file = (name: string) => fileURLToPath(new URL(`../../pipelines/${name}`, import.meta.url));

/**
 * The v1.41 names switch: pipelines/llm-traces-v1.41.yaml is llm-traces.yaml with the v1.41 metric
 * set — the same input, normalisation and tenants, its own name and consumer group.
 */
describe('llm-traces: current conventions by default, v1.41 names by pipelines/llm-traces-v1.41.yaml', async () => {
  const current = (await loadPipelineFile(file('llm-traces.yaml'), {})).config;
  const old = (await loadPipelineFile(file('llm-traces-v1.41.yaml'), {})).config;

  it('emits the current metric names by default and the v1.41 names in the other file', () => {
    expect(new Set(current.metrics.map((m) => m.name))).toEqual(
      new Set([
        'gen_ai_client_inference_duration_seconds',
        'gen_ai_client_inference_time_to_first_chunk_seconds',
        'gen_ai_client_inference_time_per_output_chunk_seconds',
        'gen_ai_client_inference_operation_input_tokens',
        'gen_ai_client_inference_operation_output_tokens',
        'gen_ai_client_inference_usage_input_tokens_total',
        'gen_ai_client_inference_usage_output_tokens_total',
        'gen_ai_client_inference_usage_cache_read_input_tokens_total',
        'gen_ai_client_inference_usage_cache_write_input_tokens_total',
        'gen_ai_client_inference_usage_reasoning_output_tokens_total',
        'gen_ai_client_operation_duration_seconds',
        'gen_ai_invoke_agent_duration_seconds',
        'gen_ai_execute_tool_duration_seconds',
        'gen_ai_invoke_workflow_duration_seconds',
        'gen_ai_invoke_agent_inference_calls',
        'gen_ai_invoke_agent_tool_calls',
        'gen_ai_usage_cost_total',
        'llm_inference_duration_drift',
      ]),
    );
    expect(new Set(old.metrics.map((m) => m.name))).toEqual(
      new Set(['gen_ai_client_token_usage', 'gen_ai_client_operation_duration_seconds', 'gen_ai_server_time_to_first_token_seconds', 'gen_ai_server_time_per_output_token_seconds']),
    );
  });

  it('normalises the same way from the same input, under its own name and consumer group', () => {
    expect(old.transforms).toEqual(current.transforms);
    expect(old.constants).toEqual(current.constants);
    expect(old.source.topics).toEqual(current.source.topics);
    expect(old.tenants).toEqual(current.tenants);
    expect(old.name).not.toBe(current.name);
    expect(old.source.group_id).not.toBe(current.source.group_id);
  });
});
