import { compileFieldGetter, type FieldGetter } from '../core/field-path.ts';
import type { Rejection } from '../core/dead-letter-reason.ts';
import { isValidTenantId, type TenantsConfig } from './config.ts';

/**
 * Resolves a record's tenant from one configured field. Only declared tenants resolve, or, when
 * a default route is configured, any well-formed tenant id: a record cannot invent a tenant
 * outside that, and an unknown one is `unroutable`, never sent to a fallback.
 */
export class TenantResolver {
  private readonly get: FieldGetter;
  private readonly known: ReadonlySet<string>;
  private readonly acceptAnyValidId: boolean;

  constructor(
    private readonly field: string,
    tenants: TenantsConfig,
  ) {
    this.get = compileFieldGetter(field);
    this.known = new Set(Object.keys(tenants.tenants));
    this.acceptAnyValidId = tenants.default_route !== undefined;
  }

  resolve(record: Record<string, unknown>): string | Rejection {
    const value = this.get(record);
    if (typeof value === 'string' && (this.known.has(value) || (this.acceptAnyValidId && isValidTenantId(value)))) return value;
    if (value === undefined || value === null || value === '') {
      return { reason: 'unroutable', detail: `no tenant: field "${this.field}" is empty` };
    }
    return { reason: 'unroutable', detail: `field "${this.field}" names no declared tenant` };
  }
}
