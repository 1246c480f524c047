import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const HERE = fileURLToPath(new URL('.', import.meta.url));
const REQUIREMENTS = join(HERE, 'requirements.txt');
export const DRIVER = join(HERE, 'drive.py');

/**
 * The Python interpreter of a virtual environment with requirements.txt installed from the
 * package index, built once and cached outside the repository under
 * ~/.cache/sluice/genai-venv-<hash of requirements.txt> (a changed file gets a new one). Built in a
 * temporary folder and renamed into place, so an interrupted build is never taken for a good one.
 */
export async function genAiPython(): Promise<string> {
  const hash = createHash('sha256').update(readFileSync(REQUIREMENTS)).digest('hex').slice(0, 16);
  const dir = join(process.env['SLUICE_CACHE_DIR'] ?? join(homedir(), '.cache', 'sluice'), `genai-venv-${hash}`);
  const python = join(dir, 'bin', 'python');
  if (existsSync(python)) return python;
  const building = `${dir}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  await run('python3', ['-m', 'venv', building], { timeout: 120_000 });
  await run(join(building, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '-r', REQUIREMENTS], { timeout: 540_000, maxBuffer: 16 * 1024 * 1024 });
  // Only bin/python is used afterwards, and it finds its packages relative to itself: the move is safe.
  rmSync(dir, { recursive: true, force: true });
  renameSync(building, dir);
  return python;
}

/** What drive.py prints (see its docstring). */
export interface DriveResult {
  readonly messages: string[];
  readonly spans: {
    readonly trace_id: string;
    readonly span_id: string;
    readonly parent_span_id: string;
    readonly name: string;
    readonly start_ns: string;
    readonly end_ns: string;
    readonly status: 'UNSET' | 'OK' | 'ERROR';
    readonly attributes: Record<string, string | number | boolean>;
    readonly events: { readonly name: string; readonly time_ns: string }[];
  }[];
  readonly served: {
    readonly id: string;
    readonly kind: 'text' | 'tool_call' | 'rate_limited';
    readonly model: string;
    readonly stream: boolean;
    readonly prompt_tokens: number;
    readonly completion_tokens: number;
    readonly cached_tokens: number;
    readonly chunks: number;
    readonly status: number;
  }[];
}

/** Runs the real instrumentation `library` against the fake server; the spans carry `tenant.id` = tenant. */
export async function drive(python: string, library: 'openai-v2' | 'traceloop', tenant: string): Promise<DriveResult> {
  const { stdout } = await run(python, [DRIVER, library, tenant], { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as DriveResult;
}
