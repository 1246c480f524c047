import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';

/**
 * Which processes a process started, from /proc (Linux), so a test can check that all of them are
 * gone after it exits, detached ones included. A process is identified by pid and start time, so
 * a reused pid never counts as the old process.
 */

export interface ProcessRecord {
  readonly pid: number;
  readonly startTime: string;
  readonly command: string;
}

interface ProcStat {
  readonly ppid: number;
  readonly state: string;
  readonly startTime: string;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: state, ppid, ..., starttime is field 22 overall.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, ppid: Number(fields[1]), startTime: fields[19]! };
  } catch {
    return undefined;
  }
}

function readCommand(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

/** Every live descendant of `root` (children, their children, ...). */
export function descendants(root: number): ProcessRecord[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (!stat) continue;
    const list = children.get(stat.ppid);
    if (list) list.push(pid);
    else children.set(stat.ppid, [pid]);
  }
  const out: ProcessRecord[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    const stat = readStat(pid);
    if (!stat || stat.state === 'Z') continue;
    out.push({ pid, startTime: stat.startTime, command: readCommand(pid) });
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** Running (not a zombie) and still the same process. */
export function isRunning(record: ProcessRecord): boolean {
  const stat = readStat(record.pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X' && stat.startTime === record.startTime;
}

/** Records descendants of `root` every `intervalMs` until stopped: processes that live briefly are seen too. */
export class ProcessTreeWatch {
  private readonly seen = new Map<string, ProcessRecord>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly root: number, intervalMs = 200) {
    this.timer = setInterval(() => this.scan(), intervalMs);
    this.scan();
  }

  scan(): void {
    for (const record of descendants(this.root)) this.seen.set(`${record.pid}:${record.startTime}`, record);
  }

  stop(): ProcessRecord[] {
    clearInterval(this.timer);
    return [...this.seen.values()];
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
