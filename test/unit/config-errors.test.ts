import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, parsePipeline } from '../../src/config/load.ts';

const shipped = readFileSync(fileURLToPath(new URL('../../pipelines/bailian-gateway.yaml', import.meta.url)), 'utf8');

/** Parses `text` and returns its problems as printed by `sluice validate`. */
function problems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parsePipeline(text, 'p.yaml', env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  return [];
}

/** The shipped pipeline with one line replaced. */
function edit(find: string, replace: string): string {
  expect(shipped).toContain(find);
  return shipped.replace(find, replace);
}

function lineOf(text: string, needle: string): number {
  return text.split('\n').findIndex((line) => line.includes(needle)) + 1;
}

describe('pipeline config errors', () => {
  it('accepts the shipped pipeline and fills defaults', () => {
    const { config } = parsePipeline(shipped, 'p.yaml', {});
    expect(config.window).toEqual({ type: 'tumbling', size: 10_000, max_out_of_orderness: 5_000, allowed_lateness: 0, idle_timeout: 10_000 });
    expect(config.source.brokers).toEqual(['127.0.0.1:9092']);
    expect(Object.keys(config.tenants.tenants)).toEqual(['acme', 'globex', 'initech']);
    expect(config.tenants.tenants.globex!.headers).toEqual({ 'X-Scope-OrgID': 'globex' });
    expect(config.tenants.default_route).toBeUndefined();
  });

  it('names file, line, column and path of a bad duration', () => {
    const text = edit('size: 10s', 'size: ten seconds');
    expect(problems(text)).toEqual([
      `p.yaml:${lineOf(text, 'size: ten')}:9: window.size: expected a duration such as "500ms", "30s", "5m" or "1h"`,
    ]);
  });

  it('points into arrays with an index', () => {
    const text = edit('buckets: [0.01, 0.02, 0.04,', 'buckets: [0.02, 0.01, 0.04,');
    expect(problems(text)).toEqual([`p.yaml:${lineOf(text, 'buckets: [0.02')}:14: metrics[3].buckets: buckets must be strictly increasing`]);
  });

  it('rejects unknown keys at the key', () => {
    const text = edit('  allowed_lateness: 0s', '  allowed_latenes: 0s');
    expect(problems(text)).toEqual([`p.yaml:${lineOf(text, 'allowed_latenes:')}:3: window: Unrecognized key: "allowed_latenes"`]);
  });

  it('requires counters to end in _total', () => {
    const text = edit('name: bailian_gateway_input_tokens_total', 'name: bailian_gateway_input_tokens');
    expect(problems(text)).toEqual([`p.yaml:${lineOf(text, 'name: bailian_gateway_input_tokens')}:11: metrics[1].name: counter names must end in "_total"`]);
  });

  it('reports duplicate metric names', () => {
    const text = edit('name: bailian_gateway_output_tokens_total', 'name: bailian_gateway_input_tokens_total');
    const line = text.split('\n').findLastIndex((l) => l.includes('name: bailian_gateway_input_tokens_total')) + 1;
    expect(problems(text)).toEqual([`p.yaml:${line}:11: metrics[2].name: duplicate metric name "bailian_gateway_input_tokens_total" (also metrics[1])`]);
  });

  it('refuses to let tenant headers override the remote-write headers', () => {
    const text = edit('headers: { X-Scope-OrgID: globex }', 'headers: { X-Scope-OrgID: globex, Content-Type: text/plain }');
    expect(problems(text)).toEqual([
      `p.yaml:${lineOf(text, 'Content-Type: text/plain')}:53: tenants.globex.headers["Content-Type"]: header "Content-Type" cannot be set: the remote-write sink sets Content-Type itself`,
    ]);
  });

  it('names an unset environment variable, never a value', () => {
    const text = edit('${SLUICE_TENANT_ACME_URL:-http://127.0.0.1:9191/api/v1/write}', '${ACME_URL}');
    expect(problems(text)).toEqual([`p.yaml:${lineOf(text, '${ACME_URL}')}:15: environment variable ACME_URL is not set`]);
  });

  it('reports YAML syntax errors with their position', () => {
    expect(problems('name: x\nsource: [\n')).toEqual([expect.stringMatching(/^p\.yaml:\d+:\d+: /)]);
  });

  it('reports a missing section at the document root', () => {
    const text = shipped.replace(/\ndead_letter:\n  topic: [^\n]+\n/, '\n');
    expect(problems(text)).toEqual([`p.yaml:${lineOf(text, 'name: bailian-gateway')}:1: dead_letter: Invalid input: expected object, received undefined`]);
  });
});
