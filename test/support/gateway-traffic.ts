import { seededRandom } from './seeded-random.ts';

/**
 * Realistic synthetic model-gateway call logs (Bailian-style), deterministic for a seed:
 * several tenants and models, streaming and not, throttling, content-safety and auth errors,
 * log-normal latencies. Used by the demo producer, the integration tests and the benchmark.
 */
export interface GatewayCallLog {
  request_id: string;
  timestamp: number;
  tenant_id: string;
  workspace_id: string;
  app_id: string | null;
  api_key_id: string;
  model: string;
  api: string;
  http_status: number;
  error_code: string | null;
  latency_ms: number;
  ttft_ms: number | null;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  stream: boolean;
  region: string;
  source_ip: string | null;
  user_agent: string | null;
  trace_id: string | null;
}

const SHARED_MODELS = ['qwen-plus', 'qwen-max', 'qwen-turbo', 'qwen3-coder-plus', 'deepseek-v3'] as const;
const APIS = ['chat.completions', 'text-generation', 'embeddings'] as const;
const REGIONS = ['cn-beijing', 'cn-hangzhou', 'ap-southeast-1'] as const;
const USER_AGENTS = [
  'OpenAI/Python 1.54.3 (Linux; x86_64; CPython 3.11.7) async:asyncio',
  'dashscope/1.20.14; python/3.10.12; platform/Linux-5.15.0-x86_64-with-glibc2.35',
  'langchainjs/0.3.6 openai/4.73.0 node/20.18.1 (linux; x64)',
  'DashScope-SDK-Java/2.18.2 (Java 17.0.13; Linux 5.10.134-16.al8.x86_64)',
] as const;

/** Outcomes and their weights: mostly success, then the Model Studio errors seen in practice. */
const OUTCOMES: readonly { weight: number; status: number; code: string | null }[] = [
  { weight: 900, status: 200, code: null },
  { weight: 40, status: 429, code: 'Throttling.RateQuota' },
  { weight: 10, status: 429, code: 'Throttling.AllocationQuota' },
  { weight: 15, status: 400, code: 'DataInspectionFailed' },
  { weight: 10, status: 400, code: 'InvalidParameter' },
  { weight: 8, status: 401, code: 'InvalidApiKey' },
  { weight: 9, status: 503, code: 'ModelUnavailable' },
  { weight: 8, status: 500, code: 'InternalError' },
];
const OUTCOME_TOTAL = OUTCOMES.reduce((sum, o) => sum + o.weight, 0);

export interface TrafficOptions {
  readonly seed: number;
  readonly tenants: readonly string[];
  /** Event time of the first record, epoch ms. */
  readonly startMs: number;
  /** Records are spread evenly over [startMs, startMs + spanMs). */
  readonly spanMs: number;
  readonly count: number;
}

/** Models a tenant uses: the shared catalogue plus its own fine-tuned model. */
export function tenantModels(tenant: string): string[] {
  return [...SHARED_MODELS, `qwen-plus-ft-${tenant}`];
}

export function* generateGatewayLogs(options: TrafficOptions): Generator<GatewayCallLog> {
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const modelsByTenant = new Map(options.tenants.map((t) => [t, tenantModels(t)]));
  const step = options.spanMs / options.count;
  for (let i = 0; i < options.count; i++) {
    // Skewed tenant mix: the first tenant is the busiest.
    const tenant = options.tenants[Math.min(options.tenants.length - 1, Math.floor(random() ** 1.6 * options.tenants.length))]!;
    const model = pick(modelsByTenant.get(tenant)!);
    const api = model.startsWith('qwen-turbo') && random() < 0.5 ? 'embeddings' : pick(APIS.slice(0, 2));
    let roll = random() * OUTCOME_TOTAL;
    let outcome = OUTCOMES[0]!;
    for (const candidate of OUTCOMES) {
      if ((roll -= candidate.weight) < 0) {
        outcome = candidate;
        break;
      }
    }
    const ok = outcome.status === 200;
    const stream = api !== 'embeddings' && random() < 0.6;
    const inputTokens = Math.round(40 + random() * random() * 6000);
    const outputTokens = ok && api !== 'embeddings' ? Math.round(10 + random() * random() * 2000) : 0;
    const latencyMs = ok ? round3(Math.exp(5.5 + random() * 2.5 + (outputTokens / 2000) * 1.5)) : round3(5 + random() * 80);
    yield {
      request_id: requestId(options.seed, i, random),
      timestamp: Math.floor(options.startMs + i * step),
      tenant_id: tenant,
      workspace_id: `ws-${tenant}-${1 + Math.floor(random() * 3)}`,
      app_id: random() < 0.7 ? `app-${tenant}-${Math.floor(random() * 5)}` : null,
      api_key_id: `sk-id-${tenant}-${Math.floor(random() * 8)}`,
      model,
      api,
      http_status: outcome.status,
      error_code: outcome.code,
      latency_ms: latencyMs,
      ttft_ms: stream && ok ? round3(latencyMs * (0.05 + random() * 0.25)) : null,
      input_tokens: inputTokens,
      output_tokens: outputTokens,
      cached_tokens: random() < 0.3 ? Math.floor(inputTokens * random() * 0.8) : 0,
      stream,
      region: pick(REGIONS),
      source_ip: `10.${Math.floor(random() * 255)}.${Math.floor(random() * 255)}.${1 + Math.floor(random() * 254)}`,
      user_agent: pick(USER_AGENTS),
      trace_id: random() < 0.5 ? traceId(random) : null,
    };
  }
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** A UUID-shaped id that is unique per (seed, index) and looks like a gateway's. */
function requestId(seed: number, index: number, random: () => number): string {
  const hex = (n: number, width: number) => Math.floor(n).toString(16).padStart(width, '0').slice(-width);
  return `${hex(seed, 8)}-${hex(index / 65536, 4)}-4${hex(index, 3)}-${hex(8 + random() * 4, 1)}${hex(random() * 4096, 3)}-${hex(random() * 2 ** 32, 8)}${hex(random() * 65536, 4)}`;
}

function traceId(random: () => number): string {
  let out = '';
  for (let i = 0; i < 4; i++) out += Math.floor(random() * 0x100000000).toString(16).padStart(8, '0');
  return out;
}
