// stack.json: the on-disk record of a running stack (pids, ports, dirs).
// It is what lets a later process find services after the one that started
// them exited or crashed: to reuse them (idempotent startStack), or to stop
// them (stopStack, `cli.ts down`).

import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const STATE_FILE = 'stack.json';

/** A recorded service: `match` must appear in /proc/<pid>/cmdline for the pid to count as ours. */
export interface ServiceRecord {
  pid: number | undefined;
  match: string;
  port: number;
  dir: string;
  logFile: string;
}

export interface StackState {
  version: 1;
  runDir: string;
  createdAt: string;
  /** The node process that started the stack (informational). */
  ownerPid: number;
  tenants: string[];
  kafka?: ServiceRecord & { controllerPort: number; kafkaVersion: string };
  redis?: ServiceRecord;
  prometheus: Record<string, ServiceRecord>;
}

export function statePath(runDir: string): string {
  return join(runDir, STATE_FILE);
}

/** The recorded state, or undefined if there is none (or it is unreadable). */
export function readState(runDir: string): StackState | undefined {
  const file = statePath(runDir);
  if (!existsSync(file)) return undefined;
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as StackState;
    if (state.version !== 1 || typeof state.prometheus !== 'object') return undefined;
    return state;
  } catch {
    return undefined;
  }
}

/**
 * Written synchronously and atomically (temp file + rename): services start
 * in parallel and each records its pid the moment it is spawned, and a
 * reader must never see a half-written file.
 */
export function writeState(state: StackState): void {
  const file = statePath(state.runDir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, file);
}

export function removeState(runDir: string): void {
  rmSync(statePath(runDir), { force: true });
}

/** Every recorded service, labelled for messages. */
export function recordedServices(state: StackState): Array<{ name: string; record: ServiceRecord }> {
  const out: Array<{ name: string; record: ServiceRecord }> = [];
  if (state.kafka) out.push({ name: 'kafka', record: state.kafka });
  if (state.redis) out.push({ name: 'redis', record: state.redis });
  for (const [tenant, record] of Object.entries(state.prometheus)) out.push({ name: `prometheus[${tenant}]`, record });
  return out;
}
