import { compileFieldGetter } from '../core/field-path.ts';
import type { Rejection } from '../core/dead-letter-reason.ts';

/**
 * Resolves a record's tenant from one configured field. Only declared tenants resolve:
 * a record cannot invent a tenant, and an unknown one is `unroutable`, never a default.
 */
export class TenantResolver {
  private readonly get;
  private readonly known: ReadonlySet<string>;

  constructor(field: string, tenants: Iterable<string>) {
    this.get = compileFieldGetter(field);
    this.known = new Set(tenants);
    this.field = field;
  }

  private readonly field: string;

  resolve(record: Record<string, unknown>): string | Rejection {
    const value = this.get(record);
    if (typeof value === 'string' && this.known.has(value)) return value;
    if (value === undefined || value === null || value === '') {
      return { reason: 'unroutable', detail: `no tenant: field "${this.field}" is empty` };
    }
    return { reason: 'unroutable', detail: `field "${this.field}" names no declared tenant` };
  }
}
