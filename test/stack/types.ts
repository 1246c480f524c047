// Public types of the local real stack (see index.ts).

export interface StackOptions {
  /** Where stack.json, configs, data and logs live. Default: `${SLUICE_STACK_DIR:-<os.tmpdir()>/sluice-stack}`. */
  runDir?: string;
  /** One Prometheus per tenant. */
  tenants: string[];
  /** Start a Redis too. Default true. */
  redis?: boolean;
  /** The broker's `group.initial.rebalance.delay.ms`: 0 unless given (tests join at once); Kafka's own default is 3000. */
  groupInitialRebalanceDelayMs?: number;
  /** Progress lines ("kafka: ready on ... in 3.9 s"). Default: silent. */
  log?: (line: string) => void;
}

export interface TenantPrometheus {
  tenant: string;
  port: number;
  /** http://127.0.0.1:port (query API at `${url}/api/v1/query`) */
  url: string;
  /** http://127.0.0.1:port/api/v1/write */
  remoteWriteUrl: string;
  logFile: string;
}

export interface StackRedis {
  /** redis://127.0.0.1:port */
  url: string;
  port: number;
  logFile: string;
  /** Stop redis-server (SIGTERM, AOF is flushed); data dir and port are kept. */
  stop(): Promise<void>;
  /** Start it again on the same port and data dir (no-op if running). */
  start(): Promise<void>;
}

export interface Stack {
  runDir: string;
  /** True when startStack found this stack already running (stack.json) and returned it instead of starting one. */
  reused: boolean;
  kafka: { brokers: string[]; logFile: string; version: string };
  redis?: StackRedis;
  prometheus: Record<string, TenantPrometheus>;
  /** Stops every service of the stack (including ones started by an earlier process) and removes stack.json. */
  stop(): Promise<void>;
}

/**
 * The JSON-serializable description of a running test stack, handed from
 * vitest's globalSetup to tests via `inject('stack')`.
 */
export interface StackInfo {
  runDir: string;
  brokers: string[];
  kafkaVersion: string;
  redisUrl: string;
  prometheus: Record<string, TenantPrometheus>;
  /** Service name → log file, for failure messages. */
  logs: Record<string, string>;
}
