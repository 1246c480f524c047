import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { pino } from 'pino';
import { ConfigError, loadPipelineFile } from '../config/load.ts';
import { parseDuration } from '../core/duration.ts';
import type { DeadLetterReason } from '../core/dead-letter-reason.ts';
import { KafkajsClient } from '../sources/kafka/kafkajs-client.ts';
import { CountingSink, JsonLinesSink, type DryRunSink } from '../testing/dry-run-sink.ts';
import { buildPipelineParts, OfflinePipeline } from '../testing/offline-pipeline.ts';
import { planReplay, RangeReader } from '../testing/replay-reader.ts';
import { ProgressBar, type ProgressOutput } from './progress-bar.ts';
import { EXIT_CONFIG } from './run.ts';

export interface ReplayOptions {
  readonly from: string;
  readonly to?: string;
  readonly dryRun?: boolean;
  readonly out?: string;
}

export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description("Re-process a time range of a pipeline's source topics into a dry-run sink (no commits, no checkpoints, no delivery).")
    .argument('<pipeline>', 'pipeline YAML file')
    .requiredOption('--from <time>', 'start: RFC 3339 time, epoch milliseconds, or a duration ago (24h)')
    .option('--to <time>', 'end (exclusive), same forms; default: the end of each partition now')
    .option('--dry-run', 'count samples per tenant and metric (or write them with --out) instead of delivering them; required')
    .option('--out <file>', 'write every sample as a JSON line to this file instead of counting')
    .action(async (file: string, options: ReplayOptions) => {
      process.exitCode = await replayCommand(file, options, { stdout: process.stdout, stderr: process.stderr });
    });
}

/**
 * `sluice replay --dry-run`: reads the records written in a time range (offsets found by
 * timestamp) through a consumer group of its own that commits nothing, runs them through the
 * pipeline's code offline (OfflinePipeline: the code `sluice test` runs), and reports what each
 * tenant would have received. No checkpoint is read or written and no sample leaves the process:
 * checking a config change on yesterday's traffic cannot disturb the running pipeline.
 */
export async function replayCommand(file: string, options: ReplayOptions, io: { stdout: ProgressOutput; stderr: ProgressOutput; now?: () => number }): Promise<number> {
  const now = io.now ?? Date.now;
  const fail = (message: string, code = 2) => {
    io.stderr.write(`${message}\n`);
    return code;
  };
  if (!options.dryRun) return fail('sluice replay: only --dry-run is supported (replayed samples go to a dry-run sink, never to tenants)');
  const fromMs = parseTime(options.from, now());
  const toMs = options.to === undefined ? undefined : parseTime(options.to, now());
  if (fromMs === undefined) return fail(`sluice replay: --from ${JSON.stringify(options.from)} is not a time (RFC 3339, epoch milliseconds, or a duration ago such as 24h)`);
  if (options.to !== undefined && toMs === undefined) return fail(`sluice replay: --to ${JSON.stringify(options.to)} is not a time`);
  if (toMs !== undefined && toMs <= fromMs) return fail('sluice replay: --to must be later than --from');

  let loaded;
  try {
    loaded = await loadPipelineFile(file);
  } catch (error) {
    return fail(error instanceof ConfigError ? error.message : `${file}: ${(error as Error).message}`, EXIT_CONFIG);
  }
  const { config } = loaded;
  const log = pino({ level: process.env.SLUICE_LOG_LEVEL ?? 'warn', base: { service: 'sluice', command: 'replay' } }, pino.destination(2));
  const kafka = new KafkajsClient({ brokers: config.source.brokers, clientId: `sluice-replay-${config.name}`, logger: log });
  const groupId = `${config.source.group_id}.replay-${randomUUID().slice(0, 8)}`;
  const sink: DryRunSink = options.out === undefined ? new CountingSink() : new JsonLinesSink(options.out);
  try {
    const ranges = await planReplay(kafka, config.source.topics, fromMs, toMs);
    const offline = new OfflinePipeline(buildPipelineParts(loaded), ranges.map((r) => `${r.topic}/${r.partition}`), sink);
    const deadLetters = new Map<DeadLetterReason, number>();
    let messages = 0;
    const reader = new RangeReader({
      kafka,
      ranges,
      groupId,
      log,
      onRecord: (record) => {
        messages++;
        const rejected = offline.add(`${record.topic}/${record.partition}`, record.value, record);
        // One dead letter per message, counted under each reason its records were refused for.
        for (const reason of new Set(rejected.map((r) => r.reason))) deadLetters.set(reason, (deadLetters.get(reason) ?? 0) + 1);
      },
      onBatch: (partition, read) => {
        offline.flush(`${partition.topic}/${partition.partition}`);
        bar.update(read);
      },
    });
    const bar = new ProgressBar(io.stderr, reader.totalRecords, 'records', now);
    io.stderr.write(`replaying ${config.name}: ${reader.totalRecords} records in ${ranges.filter((r) => r.end > r.start).length} partitions from ${new Date(fromMs).toISOString()}${toMs === undefined ? '' : ` to ${new Date(toMs).toISOString()}`} (dry run, group ${groupId})\n`);
    await reader.run();
    bar.finish();
    offline.finish();
    await sink.close();
    const reasons = [...deadLetters].sort(([a], [b]) => (a < b ? -1 : 1)).map(([reason, count]) => `${reason} ${count}`);
    io.stdout.write(`${messages} messages replayed; dead letters: ${reasons.length === 0 ? 'none' : reasons.join(', ')}\n`);
    for (const line of sink.summary()) io.stdout.write(`${line}\n`);
    return 0;
  } catch (error) {
    return fail(`sluice replay: ${(error as Error).message}`, 1);
  } finally {
    await kafka.deleteGroup(groupId).catch(() => {}); // it never committed; an empty group is all there is to remove
    await kafka.close();
  }
}

/** RFC 3339, epoch milliseconds, or a duration before `nowMs`; undefined for anything else. */
export function parseTime(text: string, nowMs: number): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  const ago = parseDuration(text);
  if (ago !== undefined) return nowMs - ago;
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}
