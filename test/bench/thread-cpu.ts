import { readdirSync, readFileSync } from 'node:fs';

/** CPU seconds (user + system) of this process's main thread and of all its other threads. */
export interface ThreadCpu {
  readonly main: number;
  readonly other: number;
}

/**
 * This process's CPU split by thread, from Linux's /proc/self/task/<tid>/stat (utime and stime,
 * in clock ticks); undefined where there is no /proc. The other threads are V8's (parallel
 * scavenges, concurrent marking and sweeping, background compilation) and libuv's: issue 12's
 * pipeline spent 3.1-5.4 CPU-s per 1M records on them against the bare consume's 1.2-1.5
 * (eleven runs and six), so a CPU ratio alone does not say whether a change moved JavaScript's
 * work or the collector's.
 */
export function threadCpu(): ThreadCpu | undefined {
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return undefined;
  }
  let main = 0;
  let other = 0;
  for (const tid of tasks) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
    } catch {
      continue; // the thread ended between the listing and the read
    }
    // Fields after the command name (which may hold spaces, so split after its closing paren):
    // state is field 3, utime 14 and stime 15 (proc(5)).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const seconds = (Number(fields[11]) + Number(fields[12])) / USER_HZ;
    if (tid === String(process.pid)) main += seconds;
    else other += seconds;
  }
  return { main, other };
}

/** The unit of /proc's CPU times (`getconf CLK_TCK`): 100 on every Linux architecture Node runs on. */
const USER_HZ = 100;
