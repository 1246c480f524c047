import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
    const result = await sluice(['validate', 'pipelines/bailian-gateway.yaml']);
    expect(result).toMatchObject({ code: 0, stdout: 'pipelines/bailian-gateway.yaml: ok (pipeline bailian-gateway, 11 metrics, 3 tenants)\n' });
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
