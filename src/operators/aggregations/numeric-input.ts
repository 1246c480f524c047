import { compileFieldGetter } from '../../core/field-path.ts';
import { InvalidInput } from './aggregator.ts';

/**
 * Compiles a reader of a numeric field: finite numbers only (and >= 0 when `nonNegative`), times
 * `scale`; anything else is `invalid`.
 */
export function numericInput(field: string, invalid: InvalidInput, options: { nonNegative?: boolean; scale?: number } = {}) {
  const get = compileFieldGetter(field);
  const scale = options.scale ?? 1;
  const nonNegative = options.nonNegative ?? false;
  return (record: Record<string, unknown>): number | InvalidInput => {
    const raw = get(record);
    if (typeof raw !== 'number' || !Number.isFinite(raw) || (nonNegative && raw < 0)) return invalid;
    return scale === 1 ? raw : raw * scale;
  };
}
