import { describe, expect, it } from 'vitest';
import { compileTransforms, type TransformConfig } from '../../src/operators/transforms/index.ts';
import { compileRelabel, relabelRuleSchema } from '../../src/operators/transforms/relabel.ts';
import { parsePipeline, ConfigError } from '../../src/config/load.ts';
import { TenantResolver } from '../../src/tenancy/resolve.ts';

const rules = (raw: unknown[]) => raw.map((r) => relabelRuleSchema.parse(r));

describe('record transforms (CEL)', () => {
  const prices = { 'qwen-plus': { input: 0.0008, output: 0.002 } };
  const transforms: TransformConfig[] = [
    { filter: 'api != "embeddings"' },
    { compute: { cost_usd: 'model in prices ? (input_tokens * prices[model].input + output_tokens * prices[model].output) / 1000.0 : 0.0' } },
  ];
  const run = compileTransforms(transforms, { prices })!;

  it('filters, then computes from constants', () => {
    const record: Record<string, unknown> = { api: 'chat', model: 'qwen-plus', input_tokens: 1000, output_tokens: 500 };
    expect(run(record)).toBe('keep');
    expect(record.cost_usd).toBeCloseTo(0.0018, 12);
    expect(Object.hasOwn(record, 'prices')).toBe(false); // constants never become fields
    expect(run({ api: 'embeddings', model: 'qwen-plus', input_tokens: 1, output_tokens: 0 })).toBe('drop');
    const unknown: Record<string, unknown> = { api: 'chat', model: 'other', input_tokens: 1, output_tokens: 1 };
    expect(run(unknown)).toBe('keep');
    expect(unknown.cost_usd).toBe(0);
  });

  it('turns an evaluation error into a rejection naming the transform, not the data', () => {
    expect(run({ api: 'chat', model: 'qwen-plus', output_tokens: 1 })).toEqual({
      reason: 'invalid_value',
      detail: 'transforms[1].compute.cost_usd: unknown variable: input_tokens',
    });
  });
});

describe('relabel (Prometheus relabel_configs semantics)', () => {
  const sample = () => ({ name: 'DCGM_FI_DEV_GPU_UTIL', labels: { gpu: '0', Hostname: 'node-1', namespace: 'team-a', pod: 'train-0' } as Record<string, string> });

  it('keeps, drops, replaces with groups, maps and drops labels', () => {
    const relabel = compileRelabel(
      rules([
        { action: 'keep', source_labels: ['__name__'], regex: 'DCGM_FI_DEV_(GPU_UTIL|FB_USED)' },
        { source_labels: ['Hostname'], target_label: 'hostname' },
        { action: 'labeldrop', regex: 'Hostname' },
        { source_labels: ['namespace', 'pod'], regex: '(.+);(.+)-\\d+', target_label: 'workload', replacement: '${1}/$2' },
        { action: 'replace', source_labels: ['__name__'], regex: 'DCGM_FI_DEV_(.*)', target_label: '__name__', replacement: 'gpu_$1' },
        { action: 'lowercase', source_labels: ['__name__'], target_label: '__name__' },
      ]),
    );
    const record = sample();
    expect(relabel(record)).toBe(true);
    expect(record).toEqual({ name: 'gpu_gpu_util', labels: { gpu: '0', hostname: 'node-1', namespace: 'team-a', pod: 'train-0', workload: 'team-a/train' } });
    expect(relabel({ name: 'DCGM_FI_DEV_POWER_USAGE', labels: {} })).toBe(false);
  });

  it('drops on match and labelmap copies matching labels', () => {
    const relabel = compileRelabel(rules([{ action: 'drop', source_labels: ['namespace'], regex: 'kube-.*' }, { action: 'labelmap', regex: 'name(space)', replacement: 'k8s_$1' }]));
    expect(relabel({ name: 'x', labels: { namespace: 'kube-system' } })).toBe(false);
    const record = { name: 'x', labels: { namespace: 'team-a' } as Record<string, string> };
    expect(relabel(record)).toBe(true);
    expect(record.labels).toEqual({ namespace: 'team-a', k8s_space: 'team-a' });
  });
});

describe('relabel replacement expands as Go does (Prometheus semantics)', () => {
  const replace = (regex: string, replacement: string, value = 'team-a/train-0') => {
    const record = { name: 'm', labels: { src: value } as Record<string, string> };
    compileRelabel(rules([{ source_labels: ['src'], regex, target_label: 'out', replacement }]))(record);
    return record.labels.out;
  };

  it('reads $name greedily, braces delimit, unknown groups expand to nothing', () => {
    expect(replace('(.+)/(.+)', '$2')).toBe('train-0');
    expect(replace('(.+)/(.+)', '${1}x')).toBe('team-ax');
    expect(replace('(.+)/(.+)', '$1x')).toBeUndefined(); // `$1x` is the group named "1x": empty, so the label is deleted
    expect(replace('(.+)/(.+)', '$1_$2')).toBe('train-0'); // `$1_` is a (missing) group name too
    expect(replace('(.+)/(.+)', '$3-$1')).toBe('-team-a');
    expect(replace('(?P<ns>.+)/(?P<pod>.+)', '${pod}@${ns}')).toBe('train-0@team-a');
    expect(replace('(.+)/(.+)', '$$1 costs $')).toBe('$1 costs $');
    expect(replace('(.+)/(x)?(.+)', '[$2]$3')).toBe('[]train-0'); // a group outside the match is empty
  });

  it('writes the target label from the template and skips invalid label names', () => {
    const record = { name: 'm', labels: { kind: 'gpu', v: '1' } as Record<string, string> };
    compileRelabel(rules([{ source_labels: ['kind'], regex: '(.+)', target_label: '${1}_count', replacement: '$1' }]))(record);
    expect(record.labels).toEqual({ kind: 'gpu', v: '1', gpu_count: 'gpu' });
    const invalid = { name: 'm', labels: { kind: 'a-b' } as Record<string, string> };
    compileRelabel(rules([{ source_labels: ['kind'], regex: '(.+)', target_label: '$1', replacement: 'x' }]))(invalid);
    expect(invalid.labels).toEqual({ kind: 'a-b' });
  });

  it('anchors the regex at both ends, as Prometheus does', () => {
    const keep = compileRelabel(rules([{ action: 'keep', source_labels: ['src'], regex: 'team-.' }]));
    expect(keep({ name: 'm', labels: { src: 'team-a' } })).toBe(true);
    expect(keep({ name: 'm', labels: { src: 'xteam-a' } })).toBe(false);
    expect(keep({ name: 'm', labels: { src: 'team-ab' } })).toBe(false);
    const alternation = compileRelabel(rules([{ action: 'drop', source_labels: ['src'], regex: 'a|b' }]));
    expect(alternation({ name: 'm', labels: { src: 'ab' } })).toBe(true); // ^(?:a|b)$, not ^a|b$
  });
});

describe('tenant mapping', () => {
  it('maps a namespace to its tenant and refuses unmapped ones', () => {
    const resolver = new TenantResolver('labels.namespace', { tenants: { acme: {} as never }, default_route: undefined }, { 'team-a': 'acme', 'team-x': 'umbrella' });
    expect(resolver.resolve({ labels: { namespace: 'team-a' } })).toBe('acme');
    expect(resolver.resolve({ labels: { namespace: 'team-b' } })).toEqual({ reason: 'unroutable', detail: 'field "labels.namespace" has no tenant mapping' });
    expect(resolver.resolve({ labels: { namespace: 'team-x' } })).toMatchObject({ reason: 'unroutable' }); // mapped to an undeclared tenant
  });
});

describe('expressions in config', () => {
  it('reports a CEL syntax error at the expression', () => {
    const text = ['name: p', 'transforms:', '  - filter: "a +"'].join('\n');
    let message = '';
    try {
      parsePipeline(text, 'p.yaml', {});
    } catch (error) {
      message = (error as ConfigError).message;
    }
    expect(message).toContain('p.yaml:3:13: transforms[0].filter: invalid expression: Unexpected token: EOF');
  });
});
