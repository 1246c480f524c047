import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testCommand } from '../../../src/cli/test.ts';
import { repo, runSluice } from '../../support/sluice-cli.ts';
import { scratchDir } from '../../support/scratch-dir.ts';

const shipped = readdirSync(join(repo, 'pipelines'))
  .filter((name) => name.endsWith('.yaml'))
  .map((name) => join('pipelines', name));

/** Runs `sluice test` in process; returns its exit code and what it printed. */
async function sluiceTest(files: readonly string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await testCommand(files.map((file) => join(repo, file)), (line) => out.push(line), (line) => err.push(line));
  return { code, out, err };
}

/** A shipped pipeline copied to a fresh directory with `edits` applied (schema paths made absolute). */
function editedCopy(file: string, ...edits: Array<[string, string]>): string {
  let text = readFileSync(join(repo, file), 'utf8').replaceAll('../schemas/', `${join(repo, 'schemas')}/`);
  for (const [from, to] of edits) {
    expect(text, `edit target ${from}`).toContain(from);
    text = text.replace(from, to);
  }
  const copy = join(scratchDir('test'), 'pipeline.yaml');
  writeFileSync(copy, text);
  return copy;
}

describe('sluice test: the shipped pipelines', () => {
  it('every shipped pipeline carries at least two tests, one of them expecting a dead letter', async () => {
    expect(shipped.length).toBeGreaterThanOrEqual(5);
    const { loadPipelineFile } = await import('../../../src/config/load.ts');
    for (const file of shipped) {
      const { config } = await loadPipelineFile(join(repo, file));
      expect(config.tests?.length ?? 0, file).toBeGreaterThanOrEqual(2);
      expect(config.tests!.some((test) => test.expect.dead_letters.length > 0), file).toBe(true);
      expect(config.tests!.every((test) => Object.values(test.expect.samples).some((samples) => samples.length > 0)), file).toBe(true);
    }
  });

  it('passes every test of every shipped pipeline, one summary line per test', async () => {
    const { code, out, err } = await sluiceTest(shipped);
    expect(err).toEqual([]);
    expect(out.filter((line) => line.startsWith('FAIL'))).toEqual([]);
    const oks = out.filter((line) => line.startsWith('ok   '));
    expect(oks.length).toBeGreaterThanOrEqual(shipped.length * 2);
    expect(out.at(-1)).toBe(`${oks.length} passed, 0 failed`);
    expect(code).toBe(0);
  });

  it('gives the same results for the trace pipelines when they read OTLP/JSON instead of protobuf', async () => {
    const traces = shipped.filter((file) => file.includes('llm-traces'));
    const edited = traces.map((file) => editedCopy(file, ['codec: ${SLUICE_OTLP_CODEC:-otlp_proto}', 'codec: otlp_json']));
    const out: string[] = [];
    const code = await testCommand(edited, (line) => out.push(line), (line) => out.push(line));
    expect(out.filter((line) => !line.startsWith('ok   ')).slice(0, -1)).toEqual([]);
    expect(code).toBe(0);
  });

  it('exits 0 from the real CLI on the shipped pipelines (what CI runs)', { timeout: 120_000 }, async () => {
    const { code, stdout } = await runSluice(['test', ...shipped]);
    expect(stdout).toMatch(/\d+ passed, 0 failed\n$/);
    expect(code).toBe(0);
  });
});

describe('sluice test: a broken expectation', () => {
  it('fails with a diff naming the tenant, the series, the time and both values', async () => {
    const file = editedCopy(
      'pipelines/bailian-gateway.yaml',
      ["http_status: '200' }, value: 1500 }", "http_status: '200' }, value: 1501 }"],
    );
    const out: string[] = [];
    const code = await testCommand([file], (line) => out.push(line), () => {});
    expect(code).toBe(1);
    expect(out).toContain(`FAIL ${file}: requests, tokens, cost, latency and throttling per tenant`);
    expect(out).toContain(
      '     tenant acme: bailian_gateway_input_tokens_total{api="chat.completions",http_status="200",model="qwen-plus"} @ 2026-12-01T00:00:10.000Z (1796083210000): expected 1501, got 1500',
    );
    expect(out.at(-1)).toBe('1 passed, 1 failed');
  });

  it('names the nearest emitted series when the expected one does not exist', async () => {
    const file = editedCopy('pipelines/gpu-rdma.yaml', ['labels: { cluster: c1 }, value: 80', 'labels: { cluster: c2 }, value: 80']);
    const out: string[] = [];
    expect(await testCommand([file], (line) => out.push(line), () => {})).toBe(1);
    expect(out).toContain(
      '     tenant acme: gpu_cluster_utilization_max_percent{cluster="c2"} @ 2026-12-01T00:00:30.000Z (1796083230000): expected 80, got no such series (nearest emitted: gpu_cluster_utilization_max_percent{cluster="c1"})',
    );
  });

  it('fails when a sample is at another time than expected, listing the times there are samples at', async () => {
    const file = editedCopy('pipelines/model-serving.yaml', ['value: 50, timestamp: 1796083245000', 'value: 50, timestamp: 1796083246000']);
    const out: string[] = [];
    expect(await testCommand([file], (line) => out.push(line), () => {})).toBe(1);
    expect(out.join('\n')).toContain(
      'model_serving_input_tokens_total{model="qwen-turbo",replica="turbo-1"} @ 2026-12-01T00:00:46.000Z (1796083246000): expected 50, got no sample at that time (samples at 2026-12-01T00:00:45.000Z (1796083245000), 2026-12-01T00:01:00.000Z (1796083260000))',
    );
  });

  it('fails on a dead letter that was not expected, and on an expected one that did not happen', async () => {
    const file = editedCopy('pipelines/bailian-gateway.yaml', ['        - { reason: late, input: 4 }\n', '        - { reason: schema, input: 0 }\n']);
    const out: string[] = [];
    expect(await testCommand([file], (line) => out.push(line), () => {})).toBe(1);
    expect(out).toContain('     dead letters: expected malformed (input 1), unroutable (input 2), schema (input 0), got malformed (input 1), unroutable (input 2), late (input 4)');
  });

  it('fails when a tenant that must get nothing gets samples', async () => {
    const file = editedCopy('pipelines/gpu-rdma.yaml', ['      no_samples_for: [globex, initech]', '      no_samples_for: [acme]']);
    const out: string[] = [];
    expect(await testCommand([file], (line) => out.push(line), () => {})).toBe(1);
    expect(out.join('\n')).toMatch(/tenant acme: expected no samples, got 13 \(first /);
  });

  it('fails a file without tests, and exits 78 on one that does not load', async () => {
    const untested = editedCopy('pipelines/gpu-rdma.yaml', ['\ntests:', '\nnot_tests:']);
    writeFileSync(untested, readFileSync(untested, 'utf8').replace(/\nnot_tests:[\s\S]*$/, '\n'));
    const err: string[] = [];
    expect(await testCommand([untested], () => {}, (line) => err.push(line))).toBe(1);
    expect(err).toEqual([`${untested}: no tests (add a \`tests:\` section; see README, "Operating Sluice")`]);

    const invalid = editedCopy('pipelines/gpu-rdma.yaml', ['  - name: RDMA counters survive', '  - nam: RDMA counters survive']);
    const problems: string[] = [];
    expect(await testCommand([invalid], () => {}, (line) => problems.push(line))).toBe(78);
    expect(problems.join('\n')).toMatch(/tests\[1\]/);
  });

  it('reports an input the codec cannot take as a failed test, naming the test', async () => {
    const file = editedCopy('pipelines/bailian-gateway.yaml', ['      - text: \'{"request_id": "truncated\'', '      - otlp_json: { resourceSpans: [] }']);
    const out: string[] = [];
    expect(await testCommand([file], (line) => out.push(line), () => {})).toBe(1);
    expect(out).toContain('     tests[1]: otlp_json inputs need codec otlp_proto or otlp_json, not json');
  });
});
