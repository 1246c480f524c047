import { describe, expect, it } from 'vitest';
import { EMPTY_CONTEXT } from '../../../src/codecs/decoder.ts';
import { loadPipelineFile } from '../../../src/config/load.ts';
import { fieldsThePipelineReads } from '../../../src/config/read-fields.ts';
import type { PipelineConfig } from '../../../src/config/schema.ts';
import { Ingest } from '../../../src/runtime/ingest.ts';
import { TAPPED } from '../../../src/telemetry/tap/hub.ts';

const gateway = await loadPipelineFile('pipelines/bailian-gateway.yaml');

describe('fieldsThePipelineReads', () => {
  it('names every field the gateway pipeline reads, and none its own test records merely carry', () => {
    const fields = fieldsThePipelineReads(gateway.config)!;
    const used = ['timestamp', 'tenant_id', 'app_id', 'model', 'api', 'http_status', 'error_code', 'latency_ms', 'ttft_ms', 'input_tokens', 'output_tokens', 'cached_tokens', 'stream'];
    expect(fields).toEqual(expect.arrayContaining(used));
    for (const unused of ['request_id', 'workspace_id', 'api_key_id', 'region', 'source_ip', 'user_agent', 'trace_id']) expect(fields).not.toContain(unused);
  });

  it('takes the first segment of field paths and every name of an expression, wherever the config has them', () => {
    const metric = { ...gateway.config.metrics[0]!, filter: 'has(extra.flag) && size(note) > 0', labels: { system: 'attributes["gen_ai.system"]', tokens: 'usage.input_tokens' } };
    const config = { ...gateway.config, metrics: [...gateway.config.metrics, metric] } as PipelineConfig;
    expect(fieldsThePipelineReads(config)).toEqual(expect.arrayContaining(['extra', 'note', 'attributes', 'usage']));
  });

  it('keeps every field where a relabel transform may read any of them', async () => {
    const gpu = await loadPipelineFile('pipelines/gpu-rdma.yaml');
    expect(gpu.config.transforms.some((t) => 'relabel' in t)).toBe(true);
    expect(fieldsThePipelineReads(gpu.config)).toBeUndefined();
  });
});

describe('Ingest with the fields read', () => {
  const log = {
    request_id: 'r-1', timestamp: 1_796_083_201_000, tenant_id: 'acme', workspace_id: 'ws-1', app_id: null, api_key_id: 'k-1', model: 'qwen-plus',
    api: 'chat.completions', http_status: 200, error_code: null, latency_ms: 1200, ttft_ms: 200, input_tokens: 1000, output_tokens: 201, cached_tokens: 0,
    stream: true, region: 'cn-beijing', user_agent: 'sdk/1.0',
  };

  it('decodes what the pipeline reads (computed fields included) and leaves the rest out', () => {
    const ingest = new Ingest(gateway);
    const message = ingest.ingest(Buffer.from(JSON.stringify(log)), EMPTY_CONTEXT);
    expect(message).toMatchObject({ records: [{ tenant: 'acme', eventTimeMs: log.timestamp }] });
    const { record } = (message as { records: { record: Record<string, unknown> }[] }).records[0]!;
    expect(record).toMatchObject({ model: 'qwen-plus', cost: (1000 * 0.0008 + 201 * 0.002) / 1000, is_error: 0, tpot_seconds: 1 / 200 });
    expect(record).not.toHaveProperty('user_agent');
  });

  it.each(['decode', 'transform'] as const)('decodes whole records while the %s point is tapped', (point) => {
    const ingest = new Ingest(gateway);
    TAPPED[point] = true;
    try {
      const message = ingest.ingest(Buffer.from(JSON.stringify(log)), EMPTY_CONTEXT);
      expect((message as { records: { record: Record<string, unknown> }[] }).records[0]!.record).toMatchObject({ user_agent: 'sdk/1.0', region: 'cn-beijing', cost: expect.any(Number) });
    } finally {
      TAPPED[point] = false;
    }
  });
});
