import { parse } from '@marcbachmann/cel-js';
import { describe, expect, it } from 'vitest';
import { compileExpression } from '../../src/operators/transforms/expression.ts';
import { compileTransforms, type TransformConfig, type TransformOutcome } from '../../src/operators/transforms/index.ts';
import { compileRelabel } from '../../src/operators/transforms/relabel.ts';
import { pipelines, samples } from '../support/shipped-samples.ts';

/*
 * Every expression of every shipped pipeline gives the same results through the metered
 * environment as through cel-js's plain `parse` (the evaluator before the budget), on records
 * shaped like each pipeline's input. Relabel results are pinned literally below.
 */

/** The transforms as they ran before the budget: cel-js's plain parse, constants shadowing fields. */
function reference(transforms: readonly TransformConfig[], constants: Record<string, unknown>) {
  const context = (record: Record<string, unknown>) => ({ ...record, ...constants });
  const steps = transforms.map((step) => {
    if ('filter' in step) {
      const filter = parse(step.filter);
      return (record: Record<string, unknown>): TransformOutcome => (filter(context(record)) === true ? 'keep' : 'drop');
    }
    if ('compute' in step) {
      const fields = Object.entries(step.compute).map(([field, source]) => [field, parse(source)] as const);
      return (record: Record<string, unknown>): TransformOutcome => {
        for (const [field, expression] of fields) {
          const value = expression(context(record));
          record[field] = typeof value === 'bigint' ? Number(value) : value;
        }
        return 'keep';
      };
    }
    const relabel = compileRelabel(step.relabel);
    return (record: Record<string, unknown>): TransformOutcome => (relabel(record) ? 'keep' : 'drop');
  });
  return (record: Record<string, unknown>): TransformOutcome => {
    for (const step of steps) {
      const outcome = step(record);
      if (outcome !== 'keep') return outcome;
    }
    return 'keep';
  };
}

describe('shipped pipelines give the same results through the metered evaluator', () => {
  it('has samples for every shipped pipeline', () => {
    expect(pipelines.map((p) => p.file).sort()).toEqual(Object.keys(samples).sort());
  });

  it.each(pipelines)('$file: transforms', ({ file, config }) => {
    const run = compileTransforms(config.transforms, config.constants, config.expression_budget);
    const expected = reference(config.transforms, config.constants);
    for (const sample of samples[file]!) {
      const ours = structuredClone(sample);
      const theirs = structuredClone(sample);
      expect(run ? run(ours) : 'keep').toEqual(expected(theirs));
      expect(ours).toEqual(theirs);
    }
  });

  it.each(pipelines)('$file: metric filters', ({ file, config }) => {
    const filters = config.metrics.flatMap((metric) => ('filter' in metric && metric.filter !== undefined ? [metric.filter] : []));
    for (const source of filters) {
      const ours = compileExpression(source);
      const theirs = parse(source);
      for (const sample of samples[file]!) {
        const outcome = (evaluate: (context: Record<string, unknown>) => unknown) => {
          try {
            return { value: evaluate(structuredClone(sample)) };
          } catch {
            return { error: true };
          }
        };
        expect(outcome(ours), source).toEqual(outcome(theirs));
      }
    }
  });

  it('gpu-rdma relabelling gives the documented labels', () => {
    const config = pipelines.find((p) => p.file === 'gpu-rdma.yaml')!.config;
    const run = compileTransforms(config.transforms, config.constants, config.expression_budget)!;
    const [dcgm, ib, emptyNamespace, other] = samples['gpu-rdma.yaml']!.map((s) => structuredClone(s));
    expect(run(dcgm!)).toBe('keep');
    expect(dcgm).toEqual({
      name: 'DCGM_FI_DEV_GPU_UTIL',
      labels: { gpu: '0', hostname: 'gpu-node-17', namespace: 'llm-serving' },
      value: 87,
      tenant_key: 'ns/llm-serving',
    });
    expect(run(ib!)).toBe('keep');
    expect(ib).toMatchObject({ labels: { device: 'mlx5_0', port: '1', instance: 'ib-node-01', hostname: 'ib-node-01' }, tenant_key: 'node/ib-node-01' });
    expect(run(emptyNamespace!)).toBe('keep');
    expect(emptyNamespace).toMatchObject({ tenant_key: 'node/gpu-node-18' });
    expect(run(other!)).toBe('drop');
  });
});
