import { createRequire, Module } from 'node:module';
import path from 'node:path';

/**
 * kafkajs's own modules, by their path inside the package (it has no exports map), for Sluice's
 * patches of kafkajs: kafkajs-read-committed.ts and kafkajs-fast-records.ts put a module of their
 * own in one's place, kafkajs-request-queue.ts changes one's class. Resolving a path loads nothing.
 */
const require = createRequire(import.meta.url);
const root = path.dirname(require.resolve('kafkajs/package.json'));

/** The file of kafkajs's module at `relative` (`src/consumer/batch.js`): its key in `moduleCache`. */
export function kafkajsModulePath(relative: string): string {
  return path.join(root, relative);
}

/** kafkajs's module at `relative`, loaded (CommonJS). */
export function requireKafkajs<T>(relative: string): T {
  return require(kafkajsModulePath(relative)) as T;
}

/** Node's CommonJS module cache, where a replacement module is put before kafkajs loads the original. */
export const moduleCache = require.cache;

/** Puts `exports` in the module cache as kafkajs's module `file`: what kafkajs gets when it first requires that file. */
export function replaceKafkajsModule(file: string, exports: unknown): void {
  const replacement = new Module(file);
  replacement.filename = file;
  replacement.loaded = true;
  replacement.exports = exports;
  moduleCache[file] = replacement;
}
