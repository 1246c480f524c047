import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FORCED_EXIT_CODE } from '../../src/cli/shutdown.ts';

const SCRIPT = fileURLToPath(new URL('../fixtures/shutdown/signalled-process.ts', import.meta.url));

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** Runs the fixture, sends `signals` (in order, 200 ms apart) once it is ready, and returns how it ended (bounded: 20 s). */
function run(mode: string, budgetMs: number, signals: NodeJS.Signals[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, mode, String(budgetMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no exit within 20 s:\n${output}`));
    }, 20_000);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      const first = !output.includes('ready\n');
      output += chunk.toString();
      if (first && output.includes('ready\n')) signals.forEach((signal, i) => setTimeout(() => child.kill(signal), i * 200));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, output });
    });
  });
}

// Each case starts a Node process with the TypeScript loader: seconds on a busy machine.
describe('ShutdownSignals (sluice run on SIGTERM / SIGINT)', { timeout: 30_000 }, () => {
  it('exits 0 on SIGTERM once the stop has closed everything', async () => {
    const outcome = await run('clean', 9_000, ['SIGTERM']);
    expect(outcome).toMatchObject({ code: 0, signal: null });
    expect(outcome.output).toContain('"signal":"SIGTERM"');
    expect(outcome.output).toContain('"msg":"sluice stopped"');
    expect(outcome.output).not.toMatch(/still open|forcing exit/);
  });

  it('a second signal does not force an exit: a Ctrl-C often arrives twice', async () => {
    const outcome = await run('clean', 9_000, ['SIGINT', 'SIGINT']);
    expect(outcome).toMatchObject({ code: 0, signal: null });
  });

  it('the watchdog ends a stop that does not finish within the budget, exit code 1 and a log line', async () => {
    const outcome = await run('hang', 1_500, ['SIGINT', 'SIGTERM']);
    expect(outcome).toMatchObject({ code: FORCED_EXIT_CODE, signal: null });
    expect(outcome.output).toContain('"msg":"shutdown already in progress"');
    expect(outcome.output).toContain('"msg":"shutdown did not finish in time; forcing exit"');
    expect(outcome.output).toContain('Timeout');
  });

  it('a handle left open after a complete stop is named in the log, and the process still exits 0', async () => {
    const outcome = await run('leak', 9_000, ['SIGTERM']);
    expect(outcome).toMatchObject({ code: 0, signal: null });
    expect(outcome.output).toContain('"msg":"resources still open after shutdown; exiting anyway"');
  });
});
