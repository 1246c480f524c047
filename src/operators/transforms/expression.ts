import { parse } from '@marcbachmann/cel-js';
import { z } from 'zod';

/**
 * Expressions in pipelines are CEL (Common Expression Language, as Kubernetes and Envoy use it):
 * side-effect free, no loops, no access outside the record, parsed once at load time — never
 * `eval`. Record fields are variables (`model`, `usage.input_tokens`); `constants` from the
 * pipeline are visible too. JSON numbers are doubles, so write `1000.0`, not `1000`.
 */
export type CompiledExpression = (context: Record<string, unknown>) => unknown;

export function compileExpression(source: string): CompiledExpression {
  return parse(source) as unknown as CompiledExpression;
}

/** A zod string that must parse as CEL; the parse error becomes a config error at the expression. */
export function expressionSchema(description: string) {
  return z
    .string()
    .min(1)
    .superRefine((source, ctx) => {
      try {
        parse(source);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `invalid expression: ${firstLine(error)}` });
      }
    })
    .describe(`${description} (a CEL expression).`);
}

/** The first line of an evaluation error: CEL names the failing variable or overload, not values. */
export function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0]!.slice(0, 200);
}
