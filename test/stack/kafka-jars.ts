// Resolves the Apache Kafka runtime jars from Maven Central with `mvn`, into
// a cache outside the repository, once per machine. We run Kafka from its
// jars (no tarball, no container): Maven gives us checksummed artifacts and
// the ~/.m2 cache for free.

import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requireBinary } from './process.ts';

export const KAFKA_VERSION = '4.1.1';
// Kafka 4 logs through SLF4J 1.x; this binds it to log4j2 so our
// log4j2.yaml (stdout appender) takes effect.
const LOG4J_SLF4J_VERSION = '2.24.3';

/** Written into the libs dir after a complete download; its absence means "fetch again". */
export const JARS_MARKER = '.complete';

/** `${SLUICE_CACHE_DIR:-$XDG_CACHE_HOME/sluice or ~/.cache/sluice}` */
export function sluiceCacheDir(): string {
  if (process.env.SLUICE_CACHE_DIR) return process.env.SLUICE_CACHE_DIR;
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg ? xdg : join(homedir(), '.cache'), 'sluice');
}

export function kafkaHomeDir(): string {
  return join(sluiceCacheDir(), `kafka-${KAFKA_VERSION}`);
}

export function kafkaLibsDir(): string {
  return join(kafkaHomeDir(), 'libs');
}

const POM = `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>sluice</groupId><artifactId>kafka-runtime</artifactId><version>1</version><packaging>pom</packaging>
<dependencies>
<dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${KAFKA_VERSION}</version></dependency>
<dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>${LOG4J_SLF4J_VERSION}</version></dependency>
</dependencies></project>
`;

let inFlight: Promise<string> | undefined;

/**
 * Make sure the Kafka jars are in the cache and return the libs dir.
 * Downloads into a temp dir and renames it into place only after mvn
 * succeeded and the marker is written, so a killed download is never
 * mistaken for a complete one.
 */
export function ensureKafkaJars(log: (line: string) => void = () => {}): Promise<string> {
  inFlight ??= fetchJars(log).finally(() => {
    inFlight = undefined;
  });
  return inFlight;
}

async function fetchJars(log: (line: string) => void): Promise<string> {
  const libs = kafkaLibsDir();
  if (existsSync(join(libs, JARS_MARKER))) return libs;

  const mvn = requireBinary('mvn', 'maven');
  const home = kafkaHomeDir();
  mkdirSync(home, { recursive: true });
  removeAbandonedTempDirs(home);
  writeFileSync(join(home, 'pom.xml'), POM);
  const tmp = mkdtempSync(join(home, 'libs.tmp-'));
  const started = Date.now();
  log(`kafka: resolving Kafka ${KAFKA_VERSION} jars with mvn into ${libs}`);
  try {
    await promisify(execFile)(
      mvn,
      [
        '-q',
        '-B',
        '-f',
        join(home, 'pom.xml'),
        'dependency:copy-dependencies',
        `-DoutputDirectory=${tmp}`,
        '-DincludeScope=runtime',
      ],
      { cwd: home, maxBuffer: 64 * 1024 * 1024 },
    );
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    const e = err as { stdout?: string; stderr?: string; message: string };
    const output = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim();
    const detail = output ? output.split('\n').slice(-30).join('\n') : e.message;
    throw new Error(`mvn failed to resolve Kafka ${KAFKA_VERSION} jars (pom: ${join(home, 'pom.xml')}):\n${detail}`);
  }
  writeFileSync(join(tmp, JARS_MARKER), `kafka ${KAFKA_VERSION}\n`);
  chmodSync(tmp, 0o755); // mkdtemp makes it private; the cache may be shared

  // Another process may have completed the same download meanwhile.
  if (existsSync(join(libs, JARS_MARKER))) {
    rmSync(tmp, { recursive: true, force: true });
    return libs;
  }
  rmSync(libs, { recursive: true, force: true }); // an incomplete leftover, if any
  try {
    renameSync(tmp, libs);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(join(libs, JARS_MARKER))) throw err;
  }
  log(`kafka: jars ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return libs;
}

/** Temp dirs of downloads (or storage formats, see kafka.ts) killed midway, older than an hour. */
function removeAbandonedTempDirs(home: string): void {
  for (const name of readdirSync(home)) {
    if (!/^(libs|format)\.tmp-/.test(name)) continue;
    const dir = join(home, name);
    try {
      if (Date.now() - statSync(dir).mtimeMs > 3_600_000) rmSync(dir, { recursive: true, force: true });
    } catch {
      // raced with its owner; leave it
    }
  }
}
