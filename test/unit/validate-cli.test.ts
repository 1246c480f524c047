import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

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

describe('sluice validate', () => {
  it('passes every shipped pipeline', async () => {
    const files = readdirSync(join(repo, 'pipelines')).filter((f) => f.endsWith('.yaml')).sort().map((f) => `pipelines/${f}`);
    expect(files).toEqual(['pipelines/bailian-gateway.yaml', 'pipelines/gpu-rdma.yaml', 'pipelines/llm-traces-v1.41.yaml', 'pipelines/llm-traces.yaml', 'pipelines/model-serving.yaml']);
    const result = await sluice(['validate', ...files]);
    expect(result).toMatchObject({
      code: 0,
      stdout: [
        'pipelines/bailian-gateway.yaml: ok (pipeline bailian-gateway, 11 metrics, 3 tenants)',
        'pipelines/gpu-rdma.yaml: ok (pipeline gpu-rdma, 13 metrics, 3 tenants)',
        'pipelines/llm-traces-v1.41.yaml: ok (pipeline llm-traces-v1-41, 5 metrics, 3 tenants)',
        'pipelines/llm-traces.yaml: ok (pipeline llm-traces, 19 metrics, 3 tenants)',
        'pipelines/model-serving.yaml: ok (pipeline model-serving, 12 metrics, 3 tenants)',
        '',
      ].join('\n'),
    });
  });

  it('fails with file:line:col and never prints a secret from the environment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-validate-'));
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
});
