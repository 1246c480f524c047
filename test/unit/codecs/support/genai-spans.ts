import { context, SpanKind, SpanStatusCode, trace, type HrTime } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type IdGenerator, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

/**
 * Real spans from the OpenTelemetry JS SDK, as an LLM application and a vLLM model server emit
 * them: a gateway SERVER span, a GenAI CLIENT span (with content attributes and a content event,
 * which the decoders must drop), a failed call, and the model server's own span, from two
 * resources. `fixed: true` pins ids and times so the encoded bytes are a stable golden input.
 */
export async function buildGenAiSpans({ fixed }: { fixed: boolean }): Promise<ReadableSpan[]> {
  const base: HrTime = fixed ? [1_790_000_000, 123_456_789] : hrNow();
  const at = (ms: number, extraNanos = 0): HrTime => addMs(base, ms, extraNanos);

  const gateway = provider(
    { 'service.name': 'chat-gateway', 'service.version': '1.4.2', 'tenant.id': 'acme', 'deployment.environment.name': 'prod' },
    fixed,
    1,
  );
  const server = provider({ 'service.name': 'vllm-qwen-plus', 'tenant.id': 'acme', 'k8s.namespace.name': 'llm-serving', 'k8s.pod.name': 'qwen-plus-7d9f-x2' }, fixed, 2);

  const tracer = gateway.provider.getTracer('@opentelemetry/instrumentation-openai', '0.5.0');
  const root = tracer.startSpan(
    'POST /v1/chat/completions',
    { kind: SpanKind.SERVER, startTime: at(0), attributes: { 'http.request.method': 'POST', 'http.route': '/v1/chat/completions', 'http.response.status_code': 200 } },
  );
  const parent = trace.setSpan(context.active(), root);

  const chat = tracer.startSpan(
    'chat qwen-plus',
    {
      kind: SpanKind.CLIENT,
      startTime: at(2, 250_000),
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'dashscope',
        'gen_ai.request.model': 'qwen-plus',
        'gen_ai.request.temperature': 0.7,
        'gen_ai.request.max_tokens': 1024,
        'gen_ai.response.model': 'qwen-plus-2025-01-25',
        'gen_ai.response.id': 'chatcmpl-7f3a91',
        'gen_ai.response.finish_reasons': ['stop'],
        'gen_ai.usage.input_tokens': 812,
        'gen_ai.usage.output_tokens': 236,
        'server.address': 'dashscope.aliyuncs.com',
        'server.port': 443,
        'gen_ai.input.messages': '[{"role":"user","parts":[{"type":"text","content":"My card number is 4111 1111 1111 1111"}]}]',
        'gen_ai.output.messages': '[{"role":"assistant","parts":[{"type":"text","content":"I cannot help with that."}]}]',
        'gen_ai.system_instructions': '[{"type":"text","content":"You are a helpful assistant."}]',
        'gen_ai.choice.message.content': 'I cannot help with that.',
      },
    },
    parent,
  );
  chat.addEvent('gen_ai.content.prompt', { 'gen_ai.prompt': 'My card number is 4111 1111 1111 1111' }, at(2, 300_000));
  chat.addEvent('gen_ai.first_token', { 'gen_ai.response.id': 'chatcmpl-7f3a91' }, at(182, 500_000));
  chat.setStatus({ code: SpanStatusCode.OK });
  chat.end(at(1_640, 750_000));

  const throttled = tracer.startSpan(
    'chat qwen-max',
    {
      kind: SpanKind.CLIENT,
      startTime: at(1_700),
      attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'dashscope', 'gen_ai.request.model': 'qwen-max', 'error.type': 'Throttling.RateQuota', 'http.response.status_code': 429 },
      links: [{ context: chat.spanContext(), attributes: { 'link.reason': 'retry-of' } }],
    },
    parent,
  );
  throttled.setStatus({ code: SpanStatusCode.ERROR, message: 'Requests rate limit exceeded' });
  throttled.end(at(1_712));
  root.end(at(1_715, 1));

  const engine = server.provider.getTracer('vllm.entrypoints.openai', '0.8.5');
  const request = engine.startSpan('llm_request', {
    kind: SpanKind.SERVER,
    startTime: at(5),
    attributes: {
      'gen_ai.request.id': 'cmpl-41c2e0',
      'gen_ai.response.model': 'qwen-plus',
      'gen_ai.request.max_tokens': 1024,
      'gen_ai.usage.prompt_tokens': 812,
      'gen_ai.usage.completion_tokens': 236,
      'gen_ai.latency.time_in_queue': 0.012,
      'gen_ai.latency.time_to_first_token': 0.176,
      'gen_ai.latency.e2e': 1.628,
    },
  });
  request.end(at(1_633));

  await gateway.provider.forceFlush();
  await server.provider.forceFlush();
  return [...gateway.exporter.getFinishedSpans(), ...server.exporter.getFinishedSpans()];
}

function provider(attributes: Record<string, string>, fixed: boolean, seed: number) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(attributes),
    ...(fixed ? { idGenerator: sequentialIds(seed) } : {}),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  return { provider, exporter };
}

/** Deterministic, valid (non-zero) ids: `<seed>` then a counter, in hex. */
function sequentialIds(seed: number): IdGenerator {
  let next = 0;
  const hex = (digits: number) => `${seed.toString(16)}${(++next).toString(16).padStart(digits - 1, '0')}`;
  return { generateTraceId: () => hex(32), generateSpanId: () => hex(16) };
}

function hrNow(): HrTime {
  const ms = Date.now();
  return [Math.floor(ms / 1000), (ms % 1000) * 1e6 + 123_456];
}

function addMs([seconds, nanos]: HrTime, ms: number, extraNanos: number): HrTime {
  const total = nanos + ms * 1e6 + extraNanos;
  return [seconds + Math.floor(total / 1e9), total % 1e9];
}
