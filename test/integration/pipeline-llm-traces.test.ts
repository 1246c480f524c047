import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningPipelines } from '../../src/runtime/process.ts';
import { startPrometheus, TEST_TENANTS, type PrometheusHandle, type StackInfo } from '../stack/index.ts';
import { createTopic, produce, readDeadLetters, testKafka, type PartitionedMessage } from '../support/kafka-io.ts';
import { EMPTY_CONTEXT } from '../../src/codecs/decoder.ts';
import { createOtlpProtoDecoder } from '../../src/codecs/otlp-proto/index.ts';
import { otlpProtoDecodeConfigSchema } from '../../src/codecs/otlp-proto/config.ts';
import { drive, genAiPython, type DriveResult } from '../support/genai-python/venv.ts';
import { generateGenAiTraffic, hrToNs, type GenAiSpanFacts, type GenAiTraffic } from '../support/pipelines/genai-traces.ts';
import { awaitTenantsMatch, metricValue, startShippedPipeline, summarize } from '../support/pipelines/harness.ts';
import { llmTracesOracle, llmTracesV141Oracle } from '../support/pipelines/llm-traces-oracle.ts';
import { listSeries } from '../support/pipelines/prometheus.ts';
import type { Expected, WindowedOracle } from '../support/pipelines/windowed-oracle.ts';
import { seededRandom } from '../support/seeded-random.ts';

/**
 * pipelines/llm-traces.yaml end to end on the real stack: spans made by the OpenTelemetry JS SDK,
 * serialized by its own OTLP protobuf serializer into ExportTraceServiceRequest messages (a few
 * spans each, several resources per message, as the Collector's Kafka exporter writes them) on
 * a 3-partition `otlp_spans`, the shipped pipeline in process (default codec otlp_proto), each
 * tenant's own Prometheus. Every GenAI histogram series is checked at every window end.
 */
const stack = inject('stack');
const PIPELINE = 'llm-traces';
const TOPIC = 'otlp_spans';
const DLQ_TOPIC = 'sluice.llm-traces.dlq';
const PARTITIONS = 3;
const WINDOW_MS = 15_000;
const UNTENANTED_KEY = 'untenanted';

const kafka = testKafka(stack.brokers, 'llm-traces-test');
// State in Redis, so the second block's pipeline resumes where the first one's stopped.
const REDIS_STATE = { SLUICE_STATE_BACKEND: 'redis', SLUICE_REDIS_URL: stack.redisUrl };
const start = Math.floor((Date.now() - 180_000) / WINDOW_MS) * WINDOW_MS + 2_345;

let traffic: GenAiTraffic;
let oracle: WindowedOracle;
let messages: PartitionedMessage[][];
let untenantedBytes: Buffer;
let running: RunningPipelines | undefined;
/** The second block's spans, for the third. */
const pythonSpans: GenAiSpanFacts[] = [];

describe('OTLP GenAI spans (protobuf) → OpenTelemetry GenAI metrics per tenant', () => {
  beforeAll(async () => {
    traffic = await generateGenAiTraffic({ seed: 23, tenants: TEST_TENANTS, startMs: start, spanMs: 120_000, callsPerService: 400 });
    oracle = llmTracesOracle(traffic.genAi);
    messages = partitionedMessages(traffic);
    await createTopic(kafka, TOPIC, PARTITIONS);
    await produce(kafka, TOPIC, messages);
    running = await startShippedPipeline(stack, new URL('../../pipelines/llm-traces.yaml', import.meta.url), REDIS_STATE);
  });

  afterAll(async () => {
    await running?.stop();
  });

  it('covers the cases it claims to (generated traffic sanity)', () => {
    const ids = TEST_TENANTS.flatMap((t) => [...oracle.expected(t).cumulative.keys()]);
    const some = (re: RegExp) => expect(ids.some((id) => re.test(id)), String(re)).toBe(true);
    some(/^gen_ai_client_inference_operation_input_tokens_bucket\{/);
    some(/^gen_ai_client_inference_usage_output_tokens_total\{/);
    some(/^gen_ai_client_inference_usage_cache_read_input_tokens_total\{/);
    some(/error_type="_OTHER"/); // ERROR status without error.type
    some(/error_type="rate_limit_exceeded"/);
    some(/error_type="RateLimitError"/); // from "<class 'openai.RateLimitError'>"
    some(/gen_ai_provider_name="anthropic"/); // from gen_ai.system only
    some(/^gen_ai_client_inference_duration_seconds_count\{.*gen_ai_operation_name="chat".*gen_ai_provider_name="openai"/); // "OpenAI" + llm.request.type
    some(/^gen_ai_client_operation_duration_seconds_count\{.*gen_ai_operation_name="embeddings"/);
    some(/^gen_ai_client_inference_duration_seconds_count\{(?!.*gen_ai_response_model)/); // failed calls: no response model
    some(/^gen_ai_client_inference_time_to_first_chunk_seconds_count\{/);
    some(/^gen_ai_client_inference_time_per_output_chunk_seconds_count\{/);
    some(/^gen_ai_invoke_agent_duration_seconds_count\{.*gen_ai_agent_name="travel-planner"/);
    some(/^gen_ai_execute_tool_duration_seconds_count\{.*error_type="TimeoutError"/);
    some(/^gen_ai_invoke_workflow_duration_seconds_count\{/);
    some(/^gen_ai_invoke_agent_inference_calls_count\{/);
    some(/^gen_ai_invoke_agent_tool_calls_count\{/);
    some(/^gen_ai_usage_cost_total\{.*gen_ai_token_type="cache_read"/);
    expect(ids.some((id) => /OpenAI|<class/.test(id)), 'provider and error.type normalised').toBe(false);
    // TTFT from chunk events: spans streamed with chunk events and no TTFT attribute exist.
    expect(traffic.genAi.some((s) => s.events.some((e) => e.name === 'llm.content.completion.chunk') && !('gen_ai.server.time_to_first_token' in s.attributes))).toBe(true);
    // Agent runs with several model and tool calls, and agents without any.
    const calls = traffic.genAi.filter((s) => s.attributes['gen_ai.operation.name'] === 'invoke_agent').map((agent) => traffic.genAi.filter((c) => c.parentSpanId === agent.spanId).length);
    expect(Math.max(...calls)).toBeGreaterThan(4);
    expect(calls).toContain(0);
    expect(ids.some((id) => id.includes('az.ai.openai')), 'gen_ai.provider.name wins over gen_ai.system').toBe(false);
    expect(traffic.genAi.some((s) => 'gen_ai.usage.prompt_tokens' in s.attributes && 'gen_ai.usage.input_tokens' in s.attributes)).toBe(true);
  });

  it('delivers every inference, usage, cost, agent, tool and workflow metric of each tenant exactly, at every window end', async () => {
    const lastWindowEnd = oracle.lastWindowEnd;
    const expected = new Map(TEST_TENANTS.map((t) => [t, oracle.expected(t, lastWindowEnd)]));
    const { problems } = await awaitTenantsMatch(stack, '{__name__=~"gen_ai_.+"}', start, lastWindowEnd, expected, { relativeAccuracy: 0, timeoutMs: 40_000 });
    for (const tenant of TEST_TENANTS) expect(summarize(problems.get(tenant)!), `${tenant}'s Prometheus vs the oracle`).toEqual([]);
  });

  it("keeps each tenant's series in its own Prometheus, and no content attribute anywhere in any Prometheus", async () => {
    for (const tenant of TEST_TENANTS) {
      const url = stack.prometheus[tenant]!.url;
      const ours = await listSeries(url, '{__name__=~"gen_ai_.+"}', start / 1000, Date.now() / 1000);
      const want = new Set([...oracle.expected(tenant).cumulative.keys()].map((id) => id.replace(/\{.*$/, '')));
      expect(new Set(ours.map((s) => s.__name__!.replace(/_(bucket|sum|count)$/, '')))).toEqual(new Set([...want].map((n) => n.replace(/_(bucket|sum|count)$/, ''))));
      // Every series of every metric family, from any test, over the whole run.
      const everything = JSON.stringify(await listSeries(url, '{__name__=~".+"}', start / 1000 - 600, Date.now() / 1000 + 60));
      expect(everything.includes(traffic.contentMarker), `content in ${tenant}'s Prometheus`).toBe(false);
      expect(everything).not.toMatch(/4111 1111|gen_ai_(input|output)_messages|gen_ai_system_instructions|gen_ai_prompt|Bearer|Traceback|Error code/);
    }
  });

  it('sends the span without tenant.id to the dead-letter topic as unroutable, and nothing else', async () => {
    const dead = await readDeadLetters(kafka, DLQ_TOPIC, 1);
    expect(dead.map((d) => [d.key, d.reason])).toEqual([[UNTENANTED_KEY, 'unroutable']]);
    expect(dead[0]!.topic).toBe(TOPIC);
    expect(dead[0]!.pipeline).toBe(PIPELINE);
    expect(dead[0]!.partition).toBe('1');
    expect(dead[0]!.value).toEqual(untenantedBytes);
  });

  it('counts messages in, non-GenAI spans filtered and the dead letter on /metrics', async () => {
    const body = await (await fetch(`${running!.telemetryUrl}/metrics`)).text();
    expect(metricValue(body, 'sluice_records_in_total', { pipeline: PIPELINE, topic: TOPIC })).toBe(messages.flat().length);
    // Every non-GenAI span, the untenanted resource's HTTP span included: the filter runs before tenant resolution.
    expect(metricValue(body, 'sluice_records_filtered_total', { pipeline: PIPELINE })).toBe(traffic.nonGenAiCount + 1);
    expect(metricValue(body, 'sluice_dead_letter_records_total', { pipeline: PIPELINE, reason: 'unroutable' })).toBe(1);
    expect(body).not.toMatch(/sluice_dead_letter_records_total\{pipeline="llm-traces",reason="(?!unroutable)/);
  });
});

/**
 * Spans in end-time order jittered by up to 3 s (inside max_out_of_orderness 10 s), cut into
 * ExportTraceServiceRequest messages of 1–6 spans, round-robin over the partitions; the
 * untenanted resource's message in the middle of partition 1.
 */
function partitionedMessages({ spans, untenanted }: GenAiTraffic): PartitionedMessage[][] {
  const random = seededRandom(4321);
  const jittered = spans.map((span) => ({ span, sortKey: Number(hrToNs(span.endTime) / 1_000_000n) + random() * 3_000 })).sort((a, b) => a.sortKey - b.sortKey);
  const perPartition: PartitionedMessage[][] = Array.from({ length: PARTITIONS }, () => []);
  let n = 0;
  for (let i = 0; i < jittered.length; ) {
    const size = 1 + Math.floor(random() * 6);
    const chunk: ReadableSpan[] = jittered.slice(i, i + size).map((j) => j.span);
    i += size;
    const partition = n % PARTITIONS;
    perPartition[partition]!.push({ partition, key: `otlp-${n++}`, value: serialize(chunk) });
  }
  untenantedBytes = serialize(untenanted);
  const list = perPartition[1]!;
  list.splice(Math.floor(list.length / 2), 0, { partition: 1, key: UNTENANTED_KEY, value: untenantedBytes });
  return perPartition;
}

function serialize(spans: ReadableSpan[]): Buffer {
  const bytes = ProtobufTraceSerializer.serializeRequest(spans);
  if (!bytes) throw new Error('the OTLP serializer produced nothing');
  return Buffer.from(bytes);
}

/**
 * The same shipped pipeline on spans made by the real Python instrumentations — the OpenTelemetry
 * project's opentelemetry-instrumentation-openai-v2 2.4b0 (tenant acme) and Traceloop's
 * opentelemetry-instrumentation-openai 0.40.14 (tenant globex) — driving the real openai client
 * against a fake OpenAI-compatible server on loopback (plain, streamed, rate-limited and
 * tool-calling chats; agent runs as invoke_agent / execute_tool / invoke_workflow spans written
 * with the Python SDK around them), encoded by the Python OTLP exporter's own protobuf encoder.
 * Runs after the block above (same file: sequential), on later event times. The pipeline resumes
 * from the first block's Redis checkpoint, so the cumulative series at the later window ends are
 * the totals over both blocks' spans, and that is what is checked.
 */
describe('spans from the real Python instrumentations → the same metrics, exactly', () => {
  const runs: { tenant: (typeof TEST_TENANTS)[number]; result: DriveResult }[] = [];
  let pyOracle: WindowedOracle; // the Python spans alone
  let bothOracle: WindowedOracle; // both blocks' spans: what the replaying pipeline delivers
  let firstMs = 0;
  let pyRunning: RunningPipelines | undefined;
  const logged: string[] = [];
  const writes = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };

  beforeAll(async () => {
    const python = await genAiPython();
    runs.push({ tenant: 'acme', result: await drive(python, 'openai-v2', 'acme') });
    runs.push({ tenant: 'globex', result: await drive(python, 'traceloop', 'globex') });
    const facts = runs.flatMap(({ tenant, result }) => result.spans.map((s) => pythonFacts(tenant, s)));
    pythonSpans.push(...facts);
    pyOracle = llmTracesOracle(facts);
    bothOracle = llmTracesOracle([...traffic.genAi, ...facts]);
    // From the first window end the Python spans reach: the first block's pipeline wrote none that late.
    firstMs = Math.ceil(Math.min(...facts.map((f) => Number(f.endNs / 1_000_000n))) / WINDOW_MS) * WINDOW_MS;
    // Every log line of the pipeline while it runs, to check that no content reaches a log.
    const capture = (write: typeof writes.out) => ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      logged.push(String(chunk));
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stdout.write;
    process.stdout.write = capture(writes.out);
    process.stderr.write = capture(writes.err);
    await createTopic(kafka, TOPIC, PARTITIONS);
    await produce(kafka, TOPIC, [runs.flatMap(({ result }) => result.messages.map((m, i) => ({ partition: 0, key: `py-${i}`, value: Buffer.from(m, 'base64') })))]);
    pyRunning = await startShippedPipeline(stack, new URL('../../pipelines/llm-traces.yaml', import.meta.url), REDIS_STATE);
  }, 600_000);

  afterAll(async () => {
    await pyRunning?.stop();
    process.stdout.write = writes.out;
    process.stderr.write = writes.err;
  });

  it('got from the libraries what the fake server answered: tokens, cache reads, one chunk event per chunk', () => {
    for (const { result } of runs) {
      const served = new Map(result.served.map((s) => [s.id, s]));
      const chats = result.spans.filter((s) => typeof s.attributes['gen_ai.response.id'] === 'string');
      expect(chats.length).toBe(result.served.filter((s) => s.status === 200).length);
      for (const span of chats) {
        const answer = served.get(String(span.attributes['gen_ai.response.id']))!;
        const a = span.attributes;
        const input = a['gen_ai.usage.input_tokens'] ?? a['gen_ai.usage.prompt_tokens'];
        const chunkEvents = span.events.filter((e) => e.name === 'llm.content.completion.chunk').length;
        // Traceloop 0.40.14 reads no usage from streams (it would count with tiktoken, offline here).
        if (input !== undefined) expect(input).toBe(answer.prompt_tokens);
        if (input !== undefined) expect(a['gen_ai.usage.output_tokens'] ?? a['gen_ai.usage.completion_tokens']).toBe(answer.completion_tokens);
        if (chunkEvents > 0) expect(chunkEvents).toBe(answer.chunks + 1); // + the usage-only last chunk
      }
    }
    const traceloopStreamed = runs[1]!.result.spans.filter((s) => s.events.some((e) => e.name === 'llm.content.completion.chunk'));
    expect(traceloopStreamed.length).toBe(runs[1]!.result.served.filter((s) => s.stream).length);
  });

  it('delivers every metric of both libraries exactly, TTFT from chunk events and calls per agent invocation included', async () => {
    const lastWindowEnd = pyOracle.lastWindowEnd;
    const windows = new Map(TEST_TENANTS.map((t) => [t, since(bothOracle.expected(t, lastWindowEnd), firstMs)]));
    const { problems } = await awaitTenantsMatch(stack, '{__name__=~"gen_ai_.+"}', firstMs, lastWindowEnd, windows, { relativeAccuracy: 0, timeoutMs: 60_000, rangeSlackSeconds: 0 });
    for (const tenant of TEST_TENANTS) expect(summarize(problems.get(tenant)!), `${tenant}'s Prometheus vs the oracle`).toEqual([]);
    const expected = new Map(TEST_TENANTS.map((t) => [t, pyOracle.expected(t, lastWindowEnd)]));
    for (const { tenant, result } of runs) {
      const last = (name: string) => [...(expected.get(tenant)!.cumulative.get(name)?.values() ?? [])].at(-1);
      // Against the fake server directly: input tokens of every answered call with usage on its span.
      const withUsage = result.served.filter((s) => s.status === 200 && !(tenant === 'globex' && s.stream));
      const inputSum = withUsage.reduce((sum, s) => sum + s.prompt_tokens, 0);
      const perModel = [...expected.get(tenant)!.cumulative.entries()].filter(([id]) => id.startsWith('gen_ai_client_inference_usage_input_tokens_total{'));
      expect(perModel.reduce((sum, [, samples]) => sum + [...samples.values()].at(-1)!, 0)).toBe(inputSum);
      // Three agent runs: 2 + 3 + 1 model calls, 1 + 2 + 0 tool calls.
      expect(last('gen_ai_invoke_agent_inference_calls_count{}')).toBe(3);
      expect(last('gen_ai_invoke_agent_inference_calls_sum{}')).toBe(6);
      expect(last('gen_ai_invoke_agent_tool_calls_sum{}')).toBe(3);
      expect(last('gen_ai_invoke_agent_tool_calls_bucket{le="1"}')).toBe(2);
    }
    const ttft = [...expected.get('globex')!.cumulative.keys()].filter((id) => id.startsWith('gen_ai_client_inference_time_to_first_chunk_seconds_count{'));
    expect(ttft.length).toBeGreaterThan(0); // Traceloop's chunk events: no span carries a TTFT attribute
  });

  it('lets no prompt, completion, header, exception message or stack trace into any record, dead letter, label or log', async () => {
    const marker = 'SLUICE-CONTENT-MARKER';
    const spansWithContent = runs.flatMap(({ result }) => result.spans).filter((s) => JSON.stringify(s).includes(marker));
    expect(spansWithContent.length).toBeGreaterThan(5); // the input really carries content: prompts, headers, exceptions
    const decoder = createOtlpProtoDecoder(otlpProtoDecodeConfigSchema.parse({ codec: 'otlp_proto' }), { baseDir: '.' });
    for (const { result } of runs) {
      for (const message of result.messages) {
        const outcome = decoder.decode(Buffer.from(message, 'base64'), EMPTY_CONTEXT);
        expect(JSON.stringify(outcome, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).not.toContain(marker);
      }
    }
    for (const tenant of TEST_TENANTS) {
      const everything = JSON.stringify(await listSeries(stack.prometheus[tenant]!.url, '{__name__=~".+"}', firstMs / 1000 - 60, Date.now() / 1000 + 60));
      expect(everything).not.toContain(marker);
      expect(everything).not.toMatch(/X-User-Note|Traceback|no forecast|Rate limit reached/);
    }
    const dead = await readDeadLetters(kafka, DLQ_TOPIC, 1, { timeoutMs: 3_000, graceMs: 2_000 });
    expect(dead.map((d) => d.key)).toContain(UNTENANTED_KEY);
    expect(dead.every((d) => d.key === UNTENANTED_KEY), 'only the first block\'s unroutable span (once per run)').toBe(true);
    expect(JSON.stringify(dead.map((d) => ({ ...d, value: undefined })))).not.toContain(marker);
    const body = await (await fetch(`${pyRunning!.telemetryUrl}/metrics`)).text();
    expect(body).not.toContain(marker);
    expect(logged.join('')).not.toContain(marker);
  });
});

/** Only the samples at window ends from `fromMs` on (the range the second block reads). */
function since(expected: Expected, fromMs: number): Expected {
  const cut = <V>(windows: Map<number, V>) => new Map([...windows].filter(([end]) => end >= fromMs));
  return {
    ...expected,
    cumulative: new Map([...expected.cumulative].map(([id, w]) => [id, cut(w)] as const).filter(([, w]) => w.size > 0)),
  };
}


/**
 * The old-names switch: pipelines/llm-traces-v1.41.yaml (its own consumer group, so it reads
 * otlp_spans from the start) over both blocks' spans delivers the v1.41 metrics
 * (gen_ai.client.token.usage, gen_ai.client.operation.duration for every operation,
 * gen_ai.server.time_to_first_token / time_per_output_token), with the same normalisation. It
 * writes to receivers of its own: beside the current-names pipeline's, its replay from the start
 * would write `gen_ai_client_operation_duration_seconds` series (same name and labels for
 * embeddings) older than what is already stored there, which Prometheus refuses as out of order.
 */
describe('the v1.41 names by the switch (pipelines/llm-traces-v1.41.yaml)', () => {
  let oldRunning: RunningPipelines | undefined;
  const receivers: PrometheusHandle[] = [];
  let view: StackInfo;

  beforeAll(async () => {
    const prometheus: StackInfo['prometheus'] = {};
    for (const tenant of TEST_TENANTS) {
      const dir = `${stack.runDir}/llm-traces-v1.41/prometheus-${tenant}`;
      const handle = await startPrometheus({ tenant, dir, logFile: `${dir}.log` });
      receivers.push(handle);
      prometheus[tenant] = handle;
    }
    view = { ...stack, prometheus };
    const urls = Object.fromEntries(TEST_TENANTS.map((t) => [`SLUICE_TENANT_${t.toUpperCase()}_URL`, prometheus[t]!.remoteWriteUrl]));
    oldRunning = await startShippedPipeline(stack, new URL('../../pipelines/llm-traces-v1.41.yaml', import.meta.url), urls);
  }, 240_000);

  afterAll(async () => {
    await oldRunning?.stop();
    await Promise.all(receivers.map((r) => r.stop()));
  });

  it('delivers gen_ai_client_token_usage, gen_ai_client_operation_duration_seconds and the server TTFT / TPOT histograms exactly', async () => {
    const oldOracle = llmTracesV141Oracle([...traffic.genAi, ...pythonSpans]);
    const lastWindowEnd = oldOracle.lastWindowEnd;
    const expected = new Map(TEST_TENANTS.map((t) => [t, oldOracle.expected(t, lastWindowEnd)]));
    const ids = [...expected.values()].flatMap((e) => [...e.cumulative.keys()]);
    expect(pythonSpans.length).toBeGreaterThan(0);
    expect(ids.some((id) => id.startsWith('gen_ai_client_token_usage_bucket{') && id.includes('gen_ai_provider_name="openai"') && id.includes('gen_ai_operation_name="chat"'))).toBe(true);
    expect(ids.some((id) => id.startsWith('gen_ai_client_operation_duration_seconds_count{') && id.includes('gen_ai_operation_name="invoke_agent"'))).toBe(true);
    expect(ids.some((id) => id.startsWith('gen_ai_server_time_to_first_token_seconds_count{'))).toBe(true);
    const selector = '{__name__=~"gen_ai_client_token_usage_.+|gen_ai_client_operation_duration_seconds_.+|gen_ai_server_.+"}';
    const { problems } = await awaitTenantsMatch(view, selector, start, lastWindowEnd, expected, { relativeAccuracy: 0, timeoutMs: 150_000 });
    for (const tenant of TEST_TENANTS) expect(summarize(problems.get(tenant)!), `${tenant}'s Prometheus vs the v1.41 oracle`).toEqual([]);
  }, 240_000);
});

function pythonFacts(tenant: string, span: DriveResult['spans'][number]): GenAiSpanFacts {
  return {
    tenant,
    startNs: BigInt(span.start_ns),
    endNs: BigInt(span.end_ns),
    attributes: span.attributes,
    statusCode: span.status,
    traceId: span.trace_id,
    spanId: span.span_id,
    parentSpanId: span.parent_span_id,
    events: span.events.map((e) => ({ name: e.name, timeNs: BigInt(e.time_ns) })),
  };
}

