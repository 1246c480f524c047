import type { Command } from 'commander';
import { ConfigError, loadPipelineFile } from '../config/load.ts';
import { compareOutput, describeOutput } from '../testing/compare.ts';
import { InputError } from '../testing/encode-input.ts';
import { buildTestPipeline, runPipelineTest, type TestPipeline } from '../testing/run-test.ts';
import { EXIT_CONFIG } from './run.ts';

export function registerTestCommand(program: Command): void {
  program
    .command('test')
    .description('Run the `tests:` of pipeline files offline (no Kafka): one line per test; a failure prints a diff per series and exits 1.')
    .argument('<files...>', 'pipeline YAML files')
    .option('--print', 'also print every emitted sample and dead letter (for writing expectations)')
    .action(async (files: string[], options: { print?: boolean }) => {
      const out = (line: string) => process.stdout.write(`${line}\n`);
      process.exitCode = await testCommand(files, out, (line) => process.stderr.write(`${line}\n`), options.print === true);
    });
}

/**
 * `sluice test`: for each file, each test's inputs go through the pipeline's own decode →
 * transform → stage 1 → repartition codec → stage 2 code (see runPipelineTest), and the samples
 * and dead letters are compared with the test's expectations. Exit code: 0 when every test
 * passes, 1 when one fails (or a file has no tests), 78 when a file does not load.
 */
export async function testCommand(files: readonly string[], out: (line: string) => void, err: (line: string) => void, print = false): Promise<number> {
  let failed = 0;
  let passed = 0;
  for (const file of files) {
    let pipeline: TestPipeline;
    let tests;
    try {
      const loaded = await loadPipelineFile(file);
      tests = loaded.config.tests ?? [];
      pipeline = buildTestPipeline(loaded);
    } catch (error) {
      err(error instanceof ConfigError ? error.message : `${file}: ${(error as Error).message}`);
      return EXIT_CONFIG;
    }
    if (tests.length === 0) {
      err(`${file}: no tests (add a \`tests:\` section; see README, "Operating Sluice")`);
      failed++;
      continue;
    }
    for (const [index, test] of tests.entries()) {
      let problems: string[];
      let summary = '';
      try {
        const output = runPipelineTest(pipeline, test);
        if (print) for (const line of describeOutput(output)) out(`     | ${line}`);
        problems = compareOutput(test, output);
        const samples = [...output.samples.values()].reduce((sum, list) => sum + list.length, 0);
        const checked = Object.values(test.expect.samples).reduce((sum, list) => sum + list.length, 0);
        summary = `${counted(test.inputs.length, 'input')}, ${counted(samples, 'sample')} emitted, ${checked} checked, ${counted(output.deadLetters.length, 'dead letter')}`;
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        problems = [`tests[${index}]: ${error.message}`];
      }
      if (problems.length === 0) {
        passed++;
        out(`ok   ${file}: ${test.name} (${summary})`);
      } else {
        failed++;
        out(`FAIL ${file}: ${test.name}`);
        for (const problem of problems) out(`     ${problem}`);
      }
    }
  }
  out(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

/** "1 input", "3 inputs". */
function counted(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
