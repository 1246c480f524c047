import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { scratchDir } from '../support/scratch-dir.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(repo, 'src/cli/bin.js');

async function sluice(args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], { cwd: repo, env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

// Each test spawns the CLI (tsx compiles on start), which takes seconds on a busy machine.
const CLI_TIMEOUT_MS = 120_000;

const SECRET = 's3cr3t-token-value';

/** The gateway pipeline as a file in a fresh directory, with `edits` applied; its schema path made absolute. */
function gatewayFile(...edits: Array<[string, string]>): string {
  let text = readFileSync(join(repo, 'pipelines/bailian-gateway.yaml'), 'utf8').replace(
    'schema: ../schemas/bailian-gateway-log.avsc',
    `schema: ${join(repo, 'schemas/bailian-gateway-log.avsc')}`,
  );
  for (const [find, replace] of edits) {
    expect(text).toContain(find);
    text = text.replace(find, replace);
  }
  const file = join(scratchDir('validate'), 'p.yaml');
  writeFileSync(file, text);
  return file;
}

function lineOf(file: string, needle: string): number {
  return readFileSync(file, 'utf8').split('\n').findIndex((line) => line.includes(needle)) + 1;
}

describe('sluice validate', { timeout: CLI_TIMEOUT_MS }, () => {
  it('passes every shipped pipeline', async () => {
    const files = readdirSync(join(repo, 'pipelines')).filter((f) => f.endsWith('.yaml')).sort().map((f) => `pipelines/${f}`);
    expect(files).toEqual(['pipelines/bailian-gateway.yaml', 'pipelines/gpu-rdma.yaml', 'pipelines/llm-traces-v1.41.yaml', 'pipelines/llm-traces.yaml', 'pipelines/model-serving.yaml']);
    const result = await sluice(['validate', ...files]);
    expect(result).toMatchObject({
      code: 0,
      stdout: [
        'pipelines/bailian-gateway.yaml: ok (pipeline bailian-gateway, 21 metrics, 3 tenants)',
        'pipelines/gpu-rdma.yaml: ok (pipeline gpu-rdma, 17 metrics, 3 tenants)',
        'pipelines/llm-traces-v1.41.yaml: ok (pipeline llm-traces-v1-41, 5 metrics, 3 tenants)',
        'pipelines/llm-traces.yaml: ok (pipeline llm-traces, 20 metrics, 3 tenants)',
        'pipelines/model-serving.yaml: ok (pipeline model-serving, 12 metrics, 3 tenants)',
        '',
      ].join('\n'),
    });
  });

  it('fails with file:line:col and never prints a secret from the environment', async () => {
    const dir = scratchDir('validate');
    const file = join(dir, 'p.yaml');
    const shipped = readFileSync(join(repo, 'pipelines/bailian-gateway.yaml'), 'utf8');
    writeFileSync(
      file,
      shipped
        .replace('schema: ../schemas/bailian-gateway-log.avsc', `schema: ${join(repo, 'schemas/bailian-gateway-log.avsc')}`)
        .replace('headers: { X-Scope-OrgID: globex }', 'headers: { Authorization: "Bearer ${GLOBEX_TOKEN}" }')
        .replace('size: 10s', 'size: ${WINDOW}'),
    );
    const result = await sluice(['validate', file], { GLOBEX_TOKEN: 's3cr3t-token-value', WINDOW: 'ten' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:9: window\\.size: expected a duration`));
    expect(result.stdout + result.stderr).not.toContain('s3cr3t-token-value');
  });

  it('checks what start-up checks: a missing bearer_token_env variable fails validate, at file:line:col', async () => {
    const file = gatewayFile(['    headers: { X-Scope-OrgID: globex }', '    auth: { bearer_token_env: GLOBEX_TOKEN }']);
    const result = await sluice(['validate', file], { GLOBEX_TOKEN: '' });
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toBe(`${file}:${lineOf(file, 'GLOBEX_TOKEN')}:31: tenants.globex.auth.bearer_token_env: environment variable GLOBEX_TOKEN is not set\n`);
    expect(await sluice(['validate', file], { GLOBEX_TOKEN: SECRET })).toMatchObject({ code: 0, stderr: '' });
  });

  it('prints no environment-derived header name, tenant id or regex, only the references', async () => {
    const file = gatewayFile(
      ['    headers: { X-Scope-OrgID: globex }', '    headers: { "${HEADER}": globex }\n    metrics: { allow: ["${ALLOW}"] }'],
      ['  initech:', '  ${TENANT}:'],
    );
    const result = await sluice(['validate', file], { HEADER: `Authorization: Bearer ${SECRET}`, ALLOW: `(${SECRET}`, TENANT: `${SECRET} x` });
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n').sort()).toEqual(
      [
        '',
        `${file}:${lineOf(file, '${HEADER}')}:29: tenants.globex.headers["\${HEADER}"]: not a valid HTTP header name (letters, digits and !#$%&'*+-.^_\`|~ only)`,
        `${file}:${lineOf(file, '${ALLOW}')}:24: tenants.globex.metrics.allow[0]: invalid regular expression: Unterminated group`,
        `${file}:${lineOf(file, '${TENANT}') + 1}:5: tenants["\${TENANT}"]: tenant ids are 1-64 letters, digits, "_", "." or "-"`,
      ].sort(),
    );
    expect(result.stdout + result.stderr).not.toContain('s3cr3t');
  });

  it('prints no environment-derived schema path or pipeline name, only the references', async () => {
    const missing = gatewayFile([`schema: ${join(repo, 'schemas')}/`, 'schema: ${SCHEMA_DIR}/']);
    const failed = await sluice(['validate', missing], { SCHEMA_DIR: `/etc/${SECRET}` });
    expect(failed).toMatchObject({
      code: 1,
      stderr: `${missing}:${lineOf(missing, '${SCHEMA_DIR}')}:11: decode.schema: cannot read Avro schema \${SCHEMA_DIR}/bailian-gateway-log.avsc: ENOENT\n`,
    });
    const named = gatewayFile(['name: bailian-gateway', 'name: ${PIPELINE}']);
    const ok = await sluice(['validate', named], { PIPELINE: SECRET });
    expect(ok).toMatchObject({ code: 0, stdout: `${named}: ok (pipeline \${PIPELINE}, 21 metrics, 3 tenants)\n` });
    expect(failed.stdout + failed.stderr + ok.stdout + ok.stderr).not.toContain('s3cr3t');
  });
});

describe('sluice run with a config problem', { timeout: CLI_TIMEOUT_MS }, () => {
  it('prints the same file:line:col message as validate and exits 78, with no stack trace, before connecting', async () => {
    // The brokers are a closed port: reaching Kafka is not needed to find the problem, and would fail.
    const file = gatewayFile(
      ['    headers: { X-Scope-OrgID: globex }', '    auth: { bearer_token_env: GLOBEX_TOKEN }'],
      ['${SLUICE_KAFKA_BROKERS:-127.0.0.1:9092}', '127.0.0.1:1'],
    );
    const result = await sluice(['run', file], { GLOBEX_TOKEN: '' });
    const message = `${file}:${lineOf(file, 'GLOBEX_TOKEN')}:31: tenants.globex.auth.bearer_token_env: environment variable GLOBEX_TOKEN is not set\n`;
    expect(result).toEqual({ code: 78, stdout: '', stderr: message });
    expect((await sluice(['validate', file], { GLOBEX_TOKEN: '' })).stderr).toBe(message);
  });
});
