// Class-data sharing (AppCDS) for the Kafka JVM: most of Kafka's startup is
// loading and verifying ~10k classes from 46 jars. The first broker on a
// machine records the classes it loaded into a dynamic CDS archive when it
// exits (-XX:ArchiveClassesAtExit); later brokers map that archive
// (-XX:SharedArchiveFile) and start markedly faster (measured on 2 CPUs:
// ~4 s instead of ~7 s when the machine is busy).
//
// Safety: a *truncated* archive crashes the JVM with SIGBUS, so a dump is
// written under a temporary name and only promoted to the real name once
// the JVM's own log says "Written dynamic archive" (logged after the file
// is complete). A dump cut short (SIGKILL) is never used. An archive that
// no longer matches the jars or JDK is rejected by the JVM with a warning
// and startup proceeds without it; the key below makes that rare.
// SLUICE_KAFKA_CDS=0 turns all of this off.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const DUMP_DONE = 'Written dynamic archive';
const STALE_DUMP_MS = 10 * 60_000;

/**
 * JVM flags that use the archive for this JDK + jars + flags, or record one
 * at exit if there is none yet. `libsMarker` is the jar cache's completion
 * marker (its mtime changes when the jars are fetched again).
 */
export function cdsJvmArgs(
  cacheDir: string,
  java: string,
  libsMarker: string,
  jvmArgs: string[],
): { mode: 'off' | 'use' | 'record'; args: string[] } {
  // escape hatch, e.g. to rule CDS out when debugging the JVM
  if (process.env.SLUICE_KAFKA_CDS === '0') return { mode: 'off', args: [] };
  const dir = join(cacheDir, 'cds');
  mkdirSync(dir, { recursive: true });
  const key = archiveKey(java, libsMarker, jvmArgs);
  const archive = join(dir, `kafka-${key}.jsa`);
  promoteFinishedDumps(dir, key, archive);
  if (existsSync(archive)) return { mode: 'use', args: [`-XX:SharedArchiveFile=${archive}`] };
  const dump = join(dir, `kafka-${key}.${process.pid}-${Date.now()}.dump`);
  return {
    mode: 'record',
    args: [
      `-XX:ArchiveClassesAtExit=${dump}`,
      // dumping warns about dozens of classes it skips: keep those out of the
      // broker log, in the dump's own log (file name quoted: -Xlog's syntax uses ':' and ',')
      '-Xlog:cds*=off',
      `-Xlog:cds*=warning,cds+dynamic=info:file="${dump}.log"`,
    ],
  };
}

function archiveKey(java: string, libsMarker: string, jvmArgs: string[]): string {
  const hash = createHash('sha256');
  let javaHome = '';
  try {
    javaHome = dirname(dirname(realpathSync(java))); // <JAVA_HOME>/bin/java
    hash.update(readFileSync(join(javaHome, 'release')));
  } catch {
    hash.update(javaHome || java);
  }
  try {
    hash.update(String(statSync(realpathSync(java)).mtimeMs));
    hash.update(String(statSync(libsMarker).mtimeMs));
  } catch {
    // key stays usable; the JVM still validates the archive itself
  }
  hash.update(jvmArgs.join('\0'));
  return hash.digest('hex').slice(0, 16);
}

/** Promote a complete dump of this key to `archive`; delete outdated archives and abandoned dumps. */
function promoteFinishedDumps(dir: string, key: string, archive: string): void {
  for (const name of readdirSync(dir)) {
    try {
      tidyEntry(dir, name, key, archive);
    } catch {
      // raced with another stack doing the same; best effort
    }
  }
}

function tidyEntry(dir: string, name: string, key: string, archive: string): void {
  if (name.endsWith('.jsa') && name !== basename(archive)) {
    // made for other jars or another JDK: outdated (a JVM that has it
    // mapped keeps its copy, so deleting is safe)
    rmSync(join(dir, name), { force: true });
    return;
  }
  if (name.endsWith('.dump') && !existsSync(join(dir, `${name}.log`))) {
    // its log was removed as abandoned while the JVM was still running
    const dump = join(dir, name);
    if (Date.now() - statSync(dump).mtimeMs > STALE_DUMP_MS) rmSync(dump, { force: true });
    return;
  }
  if (!name.endsWith('.dump.log')) return;
  const log = join(dir, name);
  const dump = log.slice(0, -'.log'.length);
  const done = readFileSync(log, 'utf8').includes(DUMP_DONE);
  if (done && name.startsWith(`kafka-${key}.`) && !existsSync(archive) && existsSync(dump)) {
    renameSync(dump, archive);
    rmSync(log, { force: true });
  } else if (done || Date.now() - statSync(log).mtimeMs > STALE_DUMP_MS) {
    // finished but not needed (other key / already have one), or abandoned
    rmSync(dump, { force: true });
    rmSync(log, { force: true });
  }
}
