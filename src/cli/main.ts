import { Command } from 'commander';
import { SLUICE_VERSION } from '../sinks/remote-write/version.ts';
import { runCommand } from './run.ts';
import { registerScoreAnomaly } from './score-anomaly.ts';
import { registerScoreDriftCommand } from './score-drift.ts';
import { registerReplayCommand } from './replay.ts';
import { registerTestCommand } from './test.ts';
import { registerTap } from './tap.ts';
import { registerTop } from './top.ts';
import { validateCommand } from './validate.ts';

const program = new Command()
  .name('sluice')
  .description('Stream-ETL for AI-native observability: Kafka in, per-tenant Prometheus remote-write out.')
  .version(SLUICE_VERSION);

program
  .command('validate')
  .description('Check pipeline files; prints each problem as file:line:col: path: message.')
  .argument('<files...>', 'pipeline YAML files')
  .action(async (files: string[]) => {
    process.exitCode = await validateCommand(files);
  });

program
  .command('run')
  .description('Run pipelines until SIGINT or SIGTERM; exits 78 on a config problem (printed as validate prints it).')
  .argument('<files...>', 'pipeline YAML files')
  .action(async (files: string[]) => {
    process.exitCode = await runCommand(files);
  });

registerScoreAnomaly(program);
registerScoreDriftCommand(program);
registerTestCommand(program);
registerReplayCommand(program);
registerTop(program);
registerTap(program);

await program.parseAsync();
