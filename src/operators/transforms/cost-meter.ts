import { z } from 'zod';
import { durationSchema } from '../../core/duration.ts';

/**
 * The work one record may cost its expressions. CEL has no loops, but comprehensions
 * (`all`, `exists`, `exists_one`, `map`, `filter`) nest, and a regular expression can be long:
 * `list.all(x, list.all(y, ...))` over a 300-element array took 2.7 s before this meter. The cost
 * model follows cel-go's: each comprehension step costs the number of nodes of the expression it
 * evaluates, a regex match costs its input length scaled by the compiled program's size (see
 * cel-environment.ts). One unit measured 140–450 ns on the shared 2-core development machine
 * (numbers vs. dynamically typed string comparisons), so the default 100,000 units are 15–50 ms;
 * an ordinary record spends none (no comprehension, no `matches`) or a few hundred. Cost is deterministic, so a replayed record meets the same verdict; `max_time` is a
 * wall-clock safety net for work the model does not see (such as `x in list` inside a step), read
 * every 16th charge.
 */
export const expressionBudgetSchema = z
  .object({
    max_cost: z
      .number()
      .int()
      .min(1)
      .default(100_000)
      .describe('Cost units one record may spend in transform expressions (comprehension steps and regex work); over it the record is dead-lettered as budget_exceeded.'),
    max_time: durationSchema()
      .refine((ms) => ms > 0, 'max_time must be greater than zero')
      .prefault('100ms')
      .describe('Wall-clock time one record may spend in transform expressions; over it the record is dead-lettered as budget_exceeded.'),
  })
  .strict();

export type ExpressionBudget = z.output<typeof expressionBudgetSchema>;

export const DEFAULT_EXPRESSION_BUDGET: ExpressionBudget = expressionBudgetSchema.parse({});

/** Thrown (one shared instance, no stack capture per throw) when a record runs over its budget. */
export class BudgetExceeded extends Error {
  constructor() {
    super('over the expression budget');
    this.name = 'BudgetExceeded';
  }
}

/** Clock reads are ~30 ns; a comprehension step is ~100 ns, so the clock is read every 16th charge. */
const CLOCK_EVERY = 16;
const LARGE_CHARGE = 1_024;

/**
 * Counts the cost of the record being evaluated. Evaluation is synchronous (no async CEL
 * functions are registered), so one meter per process serves every pipeline: `begin` opens a
 * scope for one record, expressions charge into it, and a nested `begin` joins the open scope.
 */
export class CostMeter {
  /** What ran out in the last scope that ran out, for the rejection detail. */
  exceededBy: 'cost' | 'time' | undefined;
  private active = false;
  private spent = 0;
  private limit = 0;
  private maxTime = 0;
  /** Set at the first charge: records that never charge (most) never read the clock. */
  private deadline = 0;
  private charges = 0;
  private readonly signal = new BudgetExceeded();

  /** Opens a scope of `budget`; false (and nothing changes) when one is already open. */
  begin(budget: ExpressionBudget): boolean {
    if (this.active) return false;
    this.active = true;
    this.spent = 0;
    this.limit = budget.max_cost;
    this.maxTime = budget.max_time;
    this.deadline = 0;
    this.charges = 0;
    this.exceededBy = undefined;
    return true;
  }

  /** Closes the scope that `begin` opened. */
  end(): void {
    this.active = false;
  }

  /** Throws BudgetExceeded when the open scope ran out, even if the evaluation absorbed the signal. */
  settle(): void {
    if (this.active && this.exceededBy !== undefined) throw this.signal;
  }

  /**
   * Adds `units` to the open scope; throws BudgetExceeded when the cost or the time runs out.
   * Large charges (a regex scan, which cannot be interrupted) read the clock before they start.
   */
  charge(units: number): void {
    if (!this.active) return;
    if (this.exceededBy === undefined) {
      if (this.deadline === 0) this.deadline = performance.now() + this.maxTime;
      this.spent += units;
      if (this.spent > this.limit) this.exceededBy = 'cost';
      else if ((++this.charges % CLOCK_EVERY === 0 || units >= LARGE_CHARGE) && performance.now() > this.deadline) this.exceededBy = 'time';
    }
    if (this.exceededBy !== undefined) throw this.signal;
  }
}

export const costMeter = new CostMeter();
