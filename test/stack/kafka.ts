// Starts a single-node Apache Kafka (KRaft, combined broker+controller) from
// the cached Maven jars, on free loopback ports, and waits until a kafkajs
// admin client gets an answer to describeCluster(). The handle can stop() and
// start() the broker again on the same ports and data dir: fault tests use that
// for a broker restart and a broker outage.

import '../../src/sources/kafka/kafkajs-read-committed.ts'; // before kafkajs: its read_committed filter, fixed
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { cdsJvmArgs } from './kafka-cds.ts';
import { ensureKafkaJars, JARS_MARKER, KAFKA_VERSION, kafkaHomeDir } from './kafka-jars.ts';
import {
  freePorts,
  requireBinary,
  spawnService,
  type SpawnedService,
  stopProcess,
  waitReadyOrStop,
  withPortRetry,
} from './process.ts';

/**
 * Fixed cluster id ("sluice-stack-001" as 22 base64url chars). A fixed id
 * lets us format storage once per machine and copy the result (see
 * formattedTemplate) instead of launching the StorageTool JVM on every
 * fresh start.
 */
const CLUSTER_ID = 'c2x1aWNlLXN0YWNrLTAwMQ';
const NODE_ID = 1;

const JVM_ARGS = ['-Xmx768m', '-XX:+ExitOnOutOfMemoryError', '-Djava.awt.headless=true'];

export interface KafkaOptions {
  /** Directory for config and data (data goes to `<dir>/data`, wiped on start). */
  dir: string;
  logFile: string;
  /** Called as soon as the JVM is spawned, before it is ready, so callers can record the pid. */
  onSpawn?: (info: { pid: number; match: string; port: number; controllerPort: number }) => void;
  log?: (line: string) => void;
  timeoutMs?: number;
  /** `group.initial.rebalance.delay.ms`; default 0 (see serverProperties). */
  groupInitialRebalanceDelayMs?: number;
}

export interface KafkaHandle {
  /** pid of the running JVM, or undefined while stopped. */
  readonly pid: number | undefined;
  port: number;
  controllerPort: number;
  brokers: string[];
  dataDir: string;
  logFile: string;
  version: string;
  /** Substring of the JVM's command line that identifies this broker (see process.ts). */
  match: string;
  /** SIGTERM (a controlled shutdown; SIGKILL after 30 s); ports and data dir are kept. */
  stop(): Promise<void>;
  /** Starts the broker again on the same ports and data dir, and waits until it serves groups (no-op while it runs). */
  start(): Promise<void>;
}

function serverProperties(port: number, controllerPort: number, dataDir: string, groupInitialRebalanceDelayMs = 0): string {
  return [
    'process.roles=broker,controller',
    `node.id=${NODE_ID}`,
    `controller.quorum.voters=${NODE_ID}@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${dataDir}`,
    'offsets.topic.replication.factor=1',
    // few internal partitions: creating __consumer_offsets is on the critical
    // path of the first consumer group join
    'offsets.topic.num.partitions=4',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=4',
    // Kafka's default 3 s delay before a group's first rebalance would slow every test consumer;
    // the bench's instance comparison asks for it, so that instances started together join together
    `group.initial.rebalance.delay.ms=${groupInitialRebalanceDelayMs}`,
    'num.partitions=1',
    // tests and the pipeline must create their topics explicitly
    'auto.create.topics.enable=false',
    '',
  ].join('\n');
}

// Kafka 4 ships no log4j config inside the jars; without one log4j2 only
// prints errors. We log INFO to stdout, which spawnService sends to the log file.
const LOG4J2_YAML = `Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
`;

/**
 * Formatted KRaft storage (meta.properties + bootstrap.checkpoint), made
 * once per machine with kafka.tools.StorageTool and then copied into each
 * fresh data dir. Neither file depends on ports or paths, only on the node
 * id, cluster id, static quorum and Kafka version, which are all fixed here;
 * copying saves a ~1 s JVM launch per start.
 */
async function formattedTemplate(java: string, libs: string): Promise<string> {
  const template = join(kafkaHomeDir(), `formatted-${CLUSTER_ID}-node${NODE_ID}`);
  if (existsSync(join(template, 'meta.properties'))) return template;
  const work = mkdtempSync(join(kafkaHomeDir(), 'format.tmp-'));
  try {
    const data = join(work, 'data');
    const props = join(work, 'server.properties');
    // ports are irrelevant to formatting; any values do
    writeFileSync(props, serverProperties(9092, 9093, data));
    try {
      await promisify(execFile)(java, ['-cp', `${libs}/*`, 'kafka.tools.StorageTool', 'format', '-t', CLUSTER_ID, '-c', props]);
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`formatting Kafka storage failed: ${`${e.stdout ?? ''}${e.stderr ?? ''}`.trim() || e.message}`);
    }
    try {
      renameSync(data, template);
    } catch (err) {
      if (!existsSync(join(template, 'meta.properties'))) throw err; // else: a concurrent start won
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return template;
}

export async function startKafka(opts: KafkaOptions): Promise<KafkaHandle> {
  const log = opts.log ?? (() => {});
  const java = requireBinary('java', 'openjdk-17-jre-headless');
  const libs = await ensureKafkaJars(log);
  const template = await formattedTemplate(java, libs);
  mkdirSync(opts.dir, { recursive: true });
  const dataDir = join(opts.dir, 'data');
  const configFile = join(opts.dir, 'server.properties');
  const log4jFile = join(opts.dir, 'log4j2.yaml');
  writeFileSync(log4jFile, LOG4J2_YAML);

  const match = `${configFile} `; // the whole (last) argument, see isProcessAlive

  /** Spawns the JVM on the ports in configFile and waits until it is ready and serves consumer groups. */
  const launch = async (port: number, controllerPort: number): Promise<SpawnedService> => {
    const cds = cdsJvmArgs(kafkaHomeDir(), java, join(libs, JARS_MARKER), JVM_ARGS);
    if (cds.mode === 'record') log('kafka: no class-data archive yet; this broker records one when it stops');
    const args = [...JVM_ARGS, ...cds.args, `-Dlog4j2.configurationFile=${log4jFile}`, '-cp', `${libs}/*`, 'kafka.Kafka', configFile];
    const started = Date.now();
    const service = spawnService(java, args, { logFile: opts.logFile, cwd: opts.dir });
    opts.onSpawn?.({ pid: service.pid, match, port, controllerPort });
    const brokers = [`127.0.0.1:${port}`];
    await waitReadyOrStop(`Kafka ${KAFKA_VERSION} (127.0.0.1:${port})`, service, match, () => kafkaReady(brokers), opts.timeoutMs ?? 90_000);
    await warmGroupCoordinator(brokers).catch(async (err: unknown) => {
      await stopProcess(service.pid, match, 5_000, service);
      throw new Error(`Kafka at ${brokers[0]} started but its group coordinator did not come up: ${String(err)}`);
    });
    log(`kafka: ${KAFKA_VERSION} ready on ${brokers[0]} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return service;
  };

  return withPortRetry(async () => {
    const [port, controllerPort] = (await freePorts(2)) as [number, number];
    rmSync(dataDir, { recursive: true, force: true });
    mkdirSync(dataDir, { recursive: true });
    for (const f of readdirSync(template)) copyFileSync(join(template, f), join(dataDir, f));
    writeFileSync(configFile, serverProperties(port, controllerPort, dataDir, opts.groupInitialRebalanceDelayMs));
    let current: SpawnedService | undefined = await launch(port, controllerPort);
    return {
      get pid() {
        return current?.pid;
      },
      port,
      controllerPort,
      brokers: [`127.0.0.1:${port}`],
      dataDir,
      logFile: opts.logFile,
      version: KAFKA_VERSION,
      match,
      async stop() {
        const service = current;
        current = undefined;
        // A controlled shutdown on a busy machine can take longer than the stack's usual 10 s.
        if (service) await stopProcess(service.pid, match, 30_000, service);
      },
      async start() {
        if (current && !current.hasExited()) return;
        current = await launch(port, controllerPort);
      },
    };
  });
}

/** Ready = a kafkajs admin client connects and describeCluster() lists a broker. */
export async function kafkaReady(brokers: string[]): Promise<boolean> {
  const kafka = new Kafka({
    clientId: 'sluice-stack-probe',
    brokers,
    logLevel: logLevel.NOTHING, // connection refused is expected while polling
    connectionTimeout: 1_000,
    requestTimeout: 3_000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/**
 * Kafka creates __consumer_offsets lazily, on the first FindCoordinator
 * request; until it exists consumers get COORDINATOR_NOT_AVAILABLE (which
 * kafkajs logs as an ERROR and retries). Asking once here moves that
 * ~0.5 s into startup, so "ready" means "a consumer group can join".
 */
async function warmGroupCoordinator(brokers: string[]): Promise<void> {
  const kafka = new Kafka({
    clientId: 'sluice-stack-warmup',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1_000 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.describeGroups(['sluice-stack-warmup']);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
