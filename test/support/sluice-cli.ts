import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The repository root, where the CLI tests run `sluice`. */
export const repo = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(repo, 'src/cli/bin.js');

/**
 * Runs the real `sluice` CLI in a child process; a non-zero exit is returned, not thrown. With
 * `timeoutMs`, a command still running then is killed (code null): for commands that wait on a
 * running instance.
 */
export async function runSluice(args: readonly string[], { timeoutMs = 0 }: { timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], { cwd: repo, timeout: timeoutMs, killSignal: 'SIGKILL' });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number | null; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
