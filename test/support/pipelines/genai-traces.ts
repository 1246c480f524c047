import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type AttributeValue, type Context, type HrTime } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type IdGenerator, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { seededRandom } from '../seeded-random.ts';

/**
 * Real OpenTelemetry JS SDK spans of LLM applications, deterministic for a seed: per tenant a
 * chat gateway instrumented with current GenAI semantic conventions (gen_ai.provider.name,
 * gen_ai.usage.input_tokens / output_tokens, error.type, content attributes) under an HTTP
 * SERVER span, and a RAG worker instrumented with the older ones (gen_ai.system only,
 * gen_ai.usage.prompt_tokens / completion_tokens, ERROR status without error.type, sometimes no
 * gen_ai.operation.name) under an INTERNAL span, next to a vector-store CLIENT span.
 *
 * `genAi` lists what was put on every GenAI span (the oracle's input, independent of any
 * decoder); the SDK spans themselves go to Kafka.
 */
export interface GenAiSpanFacts {
  readonly tenant: string;
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  readonly statusCode: 'UNSET' | 'OK' | 'ERROR';
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  readonly events: readonly { readonly name: string; readonly timeNs: bigint }[];
}

export interface GenAiTraffic {
  /** Every finished span with a tenant, GenAI or not, in end-time order. */
  readonly spans: ReadableSpan[];
  readonly genAi: GenAiSpanFacts[];
  readonly nonGenAiCount: number;
  /** A GenAI span and its HTTP parent from a resource without `tenant.id`: one OTLP message. */
  readonly untenanted: ReadableSpan[];
  /** Substring present in every content attribute value; must never reach Prometheus. */
  readonly contentMarker: string;
}

export interface GenAiTrafficOptions {
  readonly seed: number;
  readonly tenants: readonly string[];
  /** Span end times (event times) fall in [startMs, startMs + spanMs). */
  readonly startMs: number;
  readonly spanMs: number;
  /** Requests per tenant-service pair, over the span. */
  readonly callsPerService: number;
}

const CONTENT_MARKER = 'SLUICE-CONTENT-MARKER';

const GATEWAY_ROUTES: readonly { provider: string; system?: string; request: string; response: string }[] = [
  { provider: 'openai', request: 'gpt-4o-mini', response: 'gpt-4o-mini-2024-07-18' },
  { provider: 'openai', request: 'gpt-4.1', response: 'gpt-4.1-2025-04-14' },
  // Instrumentations in transition set both; gen_ai.provider.name must win.
  { provider: 'azure.ai.openai', system: 'az.ai.openai', request: 'gpt-4o', response: 'gpt-4o-2024-11-20' },
  { provider: 'dashscope', request: 'qwen-plus', response: 'qwen-plus-2025-01-25' },
];
const RAG_ROUTES: readonly { system: string; request: string; response: string }[] = [
  { system: 'openai', request: 'gpt-4o-mini', response: 'gpt-4o-mini-2024-07-18' },
  { system: 'anthropic', request: 'claude-3-5-haiku-latest', response: 'claude-3-5-haiku-20241022' },
];
const GATEWAY_ERRORS = ['timeout', 'rate_limit_exceeded', '429', 'openai.APIConnectionError'] as const;

export async function generateGenAiTraffic(options: GenAiTrafficOptions): Promise<GenAiTraffic> {
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const endMs = options.startMs + options.spanMs;
  /** An end time in the range, with sub-millisecond nanoseconds. */
  const endTime = (): bigint => BigInt(Math.floor(options.startMs + random() * (options.spanMs - 1))) * 1_000_000n + BigInt(Math.floor(random() * 1_000_000));
  const seconds = (s: number): bigint => BigInt(Math.round(s * 1e9));
  const microsRound = (s: number) => Math.round(s * 1e6) / 1e6;

  const providers: { provider: BasicTracerProvider; exporter: InMemorySpanExporter }[] = [];
  const newProvider = (resource: Record<string, string>) => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes(resource),
      idGenerator: seededIds(random),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    providers.push({ provider, exporter });
    return provider;
  };
  const genAi: GenAiSpanFacts[] = [];
  let nonGenAiCount = 0;

  /** Starts and ends one span with explicit times; records GenAI facts when `genAiTenant` is given. */
  const span = (
    tracerOf: ReturnType<BasicTracerProvider['getTracer']>,
    name: string,
    kind: SpanKind,
    startNs: bigint,
    endNs: bigint,
    attributes: Attributes,
    parent: Context,
    status?: { code: SpanStatusCode; message?: string },
    genAiTenant?: string,
    events: readonly { name: string; timeNs: bigint; attributes?: Attributes }[] = [],
  ) => {
    const s = tracerOf.startSpan(name, { kind, startTime: hrTime(startNs), attributes }, parent);
    for (const event of events) s.addEvent(event.name, event.attributes ?? {}, hrTime(event.timeNs));
    if (status) s.setStatus(status);
    s.end(hrTime(endNs));
    if (genAiTenant !== undefined) {
      const plain: Record<string, AttributeValue> = {};
      for (const [k, v] of Object.entries(attributes)) if (v !== undefined) plain[k] = v;
      genAi.push({
        tenant: genAiTenant,
        startNs,
        endNs,
        attributes: plain,
        statusCode: status === undefined ? 'UNSET' : status.code === SpanStatusCode.ERROR ? 'ERROR' : status.code === SpanStatusCode.OK ? 'OK' : 'UNSET',
        traceId: s.spanContext().traceId,
        spanId: s.spanContext().spanId,
        parentSpanId: trace.getSpan(parent)?.spanContext().spanId ?? '',
        events: events.map((e) => ({ name: e.name, timeNs: e.timeNs })),
      });
    } else {
      nonGenAiCount++;
    }
    return s;
  };

  for (const tenant of options.tenants) {
    const gateway = newProvider({ 'service.name': 'chat-gateway', 'service.version': '2.3.0', 'tenant.id': tenant, 'deployment.environment.name': 'prod' });
    const gatewayTracer = gateway.getTracer('@opentelemetry/instrumentation-openai', '0.5.0');
    const httpTracer = gateway.getTracer('@opentelemetry/instrumentation-http', '0.203.0');
    for (let i = 0; i < options.callsPerService; i++) {
      const route = pick(GATEWAY_ROUTES);
      const roll = random();
      const failed = roll < 0.08;
      const statusOnlyError = failed && roll < 0.02; // ERROR status, no error.type → "_OTHER"
      const stream = !failed && random() < 0.55;
      const duration = failed ? 0.01 + random() * 2 : Math.exp(-1.2 + random() * 3.6);
      const chatEnd = endTime();
      const chatStart = chatEnd - seconds(duration);
      const httpStart = chatStart - BigInt(Math.floor(random() * 3_000_000));
      const httpEnd = chatEnd + BigInt(Math.floor(random() * 2_000_000));
      const attributes: Attributes = {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': route.provider,
        'gen_ai.request.model': route.request,
        'gen_ai.request.temperature': 0.7,
        'server.address': route.provider === 'dashscope' ? 'dashscope.aliyuncs.com' : 'api.openai.com',
      };
      if (route.system) attributes['gen_ai.system'] = route.system;
      if (!failed) {
        attributes['gen_ai.response.model'] = route.response;
        attributes['gen_ai.response.finish_reasons'] = ['stop'];
        const input = 20 + Math.floor(random() * random() * 9000);
        const output = random() < 0.05 ? Math.floor(random() * 2) : 2 + Math.floor(random() * random() * 1500);
        attributes['gen_ai.usage.input_tokens'] = input;
        attributes['gen_ai.usage.output_tokens'] = output;
        // Some SDKs still add the old names next to the new ones (same or stale values): new ones win.
        if (random() < 0.1) attributes['gen_ai.usage.prompt_tokens'] = input + 7;
        if (stream) attributes['gen_ai.server.time_to_first_token'] = microsRound(duration * (0.03 + random() * 0.3));
      } else if (!statusOnlyError) {
        attributes['error.type'] = pick(GATEWAY_ERRORS);
      }
      if (random() < 0.4) {
        attributes['gen_ai.input.messages'] = JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: `${CONTENT_MARKER} my card is 4111 1111 1111 1111 (${tenant} #${i})` }] }]);
        attributes['gen_ai.system_instructions'] = JSON.stringify([{ type: 'text', content: `${CONTENT_MARKER} You are a helpful assistant.` }]);
        if (!failed) attributes['gen_ai.output.messages'] = JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: `${CONTENT_MARKER} I cannot help with that.` }] }]);
      }
      const server = httpTracer.startSpan('POST /v1/chat/completions', { kind: SpanKind.SERVER, startTime: hrTime(httpStart), attributes: { 'http.request.method': 'POST', 'http.route': '/v1/chat/completions', 'http.response.status_code': failed ? 502 : 200 } }, ROOT_CONTEXT);
      const parent = trace.setSpan(ROOT_CONTEXT, server);
      span(gatewayTracer, `chat ${route.request}`, SpanKind.CLIENT, chatStart, chatEnd, attributes, parent, failed ? { code: SpanStatusCode.ERROR, message: 'upstream call failed' } : stream ? { code: SpanStatusCode.OK } : undefined, tenant);
      server.end(hrTime(httpEnd));
      nonGenAiCount++;
    }

    const rag = newProvider({ 'service.name': 'rag-worker', 'tenant.id': tenant, 'k8s.namespace.name': `rag-${tenant}` });
    const ragTracer = rag.getTracer('opentelemetry.instrumentation.langchain', '0.33.0');
    for (let i = 0; i < options.callsPerService; i++) {
      const route = pick(RAG_ROUTES);
      const embedding = random() < 0.3;
      const failed = random() < 0.06;
      const duration = embedding ? 0.02 + random() * 0.4 : failed ? 0.05 + random() * 5 : Math.exp(-0.5 + random() * 3);
      const llmEnd = endTime();
      const llmStart = llmEnd - seconds(duration);
      const retrieveStart = llmStart - seconds(0.005 + random() * 0.2);
      const pipelineStart = retrieveStart - BigInt(Math.floor(random() * 1_000_000));
      const pipelineEnd = llmEnd + BigInt(Math.floor(random() * 1_000_000));
      const root = ragTracer.startSpan('rag.pipeline', { kind: SpanKind.INTERNAL, startTime: hrTime(pipelineStart), attributes: { 'traceloop.entity.name': 'answer_question' } }, ROOT_CONTEXT);
      const parent = trace.setSpan(ROOT_CONTEXT, root);
      span(ragTracer, 'SELECT documents', SpanKind.CLIENT, retrieveStart, llmStart, { 'db.system.name': 'postgresql', 'db.operation.name': 'SELECT', 'db.collection.name': 'documents' }, parent);
      const attributes: Attributes = { 'gen_ai.system': route.system, 'gen_ai.request.model': embedding ? 'text-embedding-3-small' : route.request };
      // Older instrumentations: the operation only where they knew it.
      if (embedding) attributes['gen_ai.operation.name'] = 'embeddings';
      else if (random() < 0.5) attributes['gen_ai.operation.name'] = 'chat';
      else attributes['llm.request.type'] = 'chat';
      if (!failed) {
        attributes['gen_ai.usage.prompt_tokens'] = 50 + Math.floor(random() * random() * 4000);
        if (!embedding) {
          attributes['gen_ai.response.model'] = route.response;
          attributes['gen_ai.usage.completion_tokens'] = 1 + Math.floor(random() * random() * 800);
          if (random() < 0.3) attributes['gen_ai.server.time_to_first_token'] = microsRound(duration * (0.05 + random() * 0.4));
        }
        if (random() < 0.3) attributes['gen_ai.prompt.0.content'] = `${CONTENT_MARKER} context: internal wiki page ${i}`;
      }
      span(ragTracer, embedding ? 'openai.embeddings' : `${route.system}.chat`, SpanKind.CLIENT, llmStart, llmEnd, attributes, parent, failed ? { code: SpanStatusCode.ERROR, message: 'Request timed out.' } : undefined, tenant);
      root.end(hrTime(pipelineEnd));
      nonGenAiCount++;
    }
    generateAgentRuns(tenant, options.callsPerService / 4);
  }

  /**
   * Agent runs in the conventions' shape: an invoke_workflow root now and then, invoke_agent
   * spans (gen_ai.agent.name) whose children are Traceloop-style chat spans (llm.request.type,
   * provider "OpenAI", streamed ones with one llm.content.completion.chunk event per chunk,
   * openai-v2's "<class '...'>" error.type, request headers, exception events) and execute_tool
   * spans; children end before their agent, often in an earlier window.
   */
  function generateAgentRuns(tenant: string, runs: number): void {
    const agents = newProvider({ 'service.name': 'agent-runner', 'tenant.id': tenant });
    const agentTracer = agents.getTracer('opentelemetry.instrumentation.openai_agents', '0.1.0');
    const chatTracer = agents.getTracer('opentelemetry.instrumentation.openai.v1', '0.40.14');
    for (let run = 0; run < runs; run++) {
      const agentName = pick(['travel-planner', 'support-triage']);
      const agentEnd = endTime();
      const steps = Math.floor(random() * 5); // 0 … 4 model calls, each maybe followed by a tool call
      let cursor = agentEnd - seconds(0.2 + steps * 4 + random() * 3);
      const agentStart = cursor - seconds(0.05);
      const workflow = random() < 0.3;
      const root = workflow
        ? agentTracer.startSpan('invoke_workflow trip', { kind: SpanKind.INTERNAL, startTime: hrTime(agentStart - seconds(0.01)), attributes: { 'gen_ai.operation.name': 'invoke_workflow', 'gen_ai.workflow.name': 'trip' } }, ROOT_CONTEXT)
        : undefined;
      const agentParentContext = root ? trace.setSpan(ROOT_CONTEXT, root) : ROOT_CONTEXT;
      const agentSpan = agentTracer.startSpan(`invoke_agent ${agentName}`, { kind: SpanKind.INTERNAL, startTime: hrTime(agentStart), attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': agentName, 'gen_ai.request.model': 'gpt-4o-mini' } }, agentParentContext);
      const inAgent = trace.setSpan(ROOT_CONTEXT, agentSpan);
      let agentFailed = false;
      for (let step = 0; step < steps; step++) {
        const callStart = cursor;
        const failed = random() < 0.1;
        const stream = !failed && random() < 0.6;
        const chunkCount = stream ? 1 + Math.floor(random() * 12) : 0;
        const ttft = seconds(0.05 + random() * 0.6);
        const gaps = Array.from({ length: chunkCount }, () => seconds(0.002 + random() * 0.08));
        const events: { name: string; timeNs: bigint; attributes?: Attributes }[] = [];
        let at = callStart + ttft;
        for (let c = 0; c < chunkCount; c++) {
          events.push({ name: 'llm.content.completion.chunk', timeNs: at });
          at += gaps[c]!;
        }
        const callEnd = stream ? at : callStart + seconds(0.1 + random() * 2);
        const attributes: Attributes = {
          'llm.request.type': 'chat',
          'gen_ai.system': 'OpenAI',
          'gen_ai.request.model': 'gpt-4o-mini',
          'llm.is_streaming': stream,
          'gen_ai.headers': `{'Authorization': 'Bearer ${CONTENT_MARKER}-sk-live'}`,
          'gen_ai.prompt.0.content': `${CONTENT_MARKER} plan a trip for ${tenant}`,
        };
        if (failed) {
          attributes['error.type'] = "<class 'openai.RateLimitError'>";
          events.push({ name: 'exception', timeNs: callEnd, attributes: { 'exception.type': 'openai.RateLimitError', 'exception.message': `${CONTENT_MARKER} Error code: 429`, 'exception.stacktrace': `Traceback: ${CONTENT_MARKER}` } });
          agentFailed ||= random() < 0.5;
        } else {
          attributes['gen_ai.response.model'] = 'gpt-4o-mini-2024-07-18';
          const input = 100 + Math.floor(random() * 3000);
          attributes['gen_ai.usage.prompt_tokens'] = input;
          attributes['gen_ai.usage.completion_tokens'] = Math.max(1, chunkCount) + Math.floor(random() * 200);
          if (random() < 0.5) attributes['gen_ai.usage.cache_read.input_tokens'] = Math.floor(input * random());
        }
        span(chatTracer, 'openai.chat', SpanKind.CLIENT, callStart, callEnd, attributes, inAgent, failed ? { code: SpanStatusCode.ERROR, message: `${CONTENT_MARKER} Error code: 429` } : undefined, tenant, events);
        cursor = callEnd + seconds(0.01);
        if (!failed && random() < 0.6) {
          const toolEnd = cursor + seconds(0.005 + random() * 1.5);
          const toolFailed = random() < 0.1;
          const toolAttributes: Attributes = { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': pick(['get_weather', 'search_flights']), 'gen_ai.tool.type': 'function', 'gen_ai.tool.call.arguments': `{"q": "${CONTENT_MARKER}"}` };
          if (toolFailed) toolAttributes['error.type'] = 'TimeoutError';
          span(agentTracer, `execute_tool ${String(toolAttributes['gen_ai.tool.name'])}`, SpanKind.INTERNAL, cursor, toolEnd, toolAttributes, inAgent, toolFailed ? { code: SpanStatusCode.ERROR } : undefined, tenant);
          cursor = toolEnd + seconds(0.01);
        }
      }
      const agentAttributes: Attributes = { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': agentName, 'gen_ai.request.model': 'gpt-4o-mini' };
      if (agentFailed) agentAttributes['error.type'] = 'openai.RateLimitError';
      const agentEndNs = cursor > agentEnd ? cursor : agentEnd;
      if (agentFailed) agentSpan.setAttribute('error.type', 'openai.RateLimitError');
      agentSpan.end(hrTime(agentEndNs));
      const plain: Record<string, AttributeValue> = {};
      for (const [k, v] of Object.entries(agentAttributes)) if (v !== undefined) plain[k] = v;
      genAi.push({ tenant, startNs: agentStart, endNs: agentEndNs, attributes: plain, statusCode: 'UNSET', traceId: agentSpan.spanContext().traceId, spanId: agentSpan.spanContext().spanId, parentSpanId: root?.spanContext().spanId ?? '', events: [] });
      if (root) {
        const rootEnd = agentEndNs + seconds(0.003);
        root.end(hrTime(rootEnd));
        genAi.push({ tenant, startNs: agentStart - seconds(0.01), endNs: rootEnd, attributes: { 'gen_ai.operation.name': 'invoke_workflow', 'gen_ai.workflow.name': 'trip' }, statusCode: 'UNSET', traceId: root.spanContext().traceId, spanId: root.spanContext().spanId, parentSpanId: '', events: [] });
      }
    }
  }

  // A batch job whose resource lacks tenant.id: its GenAI span is unroutable; its HTTP span is not
  // GenAI and is filtered out before tenant resolution.
  const orphan = newProvider({ 'service.name': 'batch-eval-job' });
  const orphanTracer = orphan.getTracer('@opentelemetry/instrumentation-openai', '0.5.0');
  const orphanEnd = BigInt(Math.floor(options.startMs + options.spanMs / 2)) * 1_000_000n;
  const orphanRoot = orphanTracer.startSpan('POST /eval', { kind: SpanKind.SERVER, startTime: hrTime(orphanEnd - seconds(2)), attributes: { 'http.request.method': 'POST' } }, ROOT_CONTEXT);
  const orphanChat = orphanTracer.startSpan(
    'chat gpt-4o-mini',
    { kind: SpanKind.CLIENT, startTime: hrTime(orphanEnd - seconds(1.5)), attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.output_tokens': 20 } },
    trace.setSpan(ROOT_CONTEXT, orphanRoot),
  );
  orphanChat.end(hrTime(orphanEnd - seconds(0.1)));
  orphanRoot.end(hrTime(orphanEnd));

  await Promise.all(providers.map((p) => p.provider.forceFlush()));
  const orphanExporter = providers.at(-1)!.exporter;
  const spans = providers
    .slice(0, -1)
    .flatMap((p) => p.exporter.getFinishedSpans())
    .sort((a, b) => compareHr(a.endTime, b.endTime));
  if (spans.some((s) => hrToNs(s.endTime) >= BigInt(endMs) * 1_000_000n + 3_000_000n)) throw new Error('a span ends after the traffic range');
  return { spans, genAi, nonGenAiCount, untenanted: orphanExporter.getFinishedSpans(), contentMarker: CONTENT_MARKER };
}

export function hrTime(ns: bigint): HrTime {
  return [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
}

export function hrToNs([s, ns]: HrTime): bigint {
  return BigInt(s) * 1_000_000_000n + BigInt(ns);
}

function compareHr(a: HrTime, b: HrTime): number {
  return a[0] - b[0] || a[1] - b[1];
}

/** Valid (non-zero) trace and span ids from the traffic's seeded generator. */
function seededIds(random: () => number): IdGenerator {
  const hex = (chars: number) => {
    let out = '';
    while (out.length < chars) out += Math.floor(random() * 0x100000000).toString(16).padStart(8, '0');
    out = out.slice(0, chars);
    return /^0+$/.test(out) ? `${out.slice(0, -1)}1` : out;
  };
  return { generateTraceId: () => hex(32), generateSpanId: () => hex(16) };
}
