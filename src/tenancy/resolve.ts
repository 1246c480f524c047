import { compileFieldGetter, type FieldGetter } from '../core/field-path.ts';
import type { Rejection } from '../core/dead-letter-reason.ts';
import { isValidTenantId, type TenantsSection } from './config.ts';

/**
 * Resolves a record's tenant from one configured field. Only declared tenants resolve, or, when
 * a default route is configured, any well-formed tenant id: a record cannot invent a tenant
 * outside that, and an unknown one is `unroutable`, never sent to a fallback.
 */
export class TenantResolver {
  private readonly get: FieldGetter;
  private readonly known: ReadonlySet<string>;
  private readonly acceptAnyValidId: boolean;

  private readonly map: ReadonlyMap<string, string> | undefined;

  constructor(
    private readonly field: string,
    tenants: TenantsSection<unknown, unknown>,
    /** Optional mapping from the field's value (namespace, workspace, node) to a tenant id. */
    map?: Readonly<Record<string, string>>,
  ) {
    this.get = compileFieldGetter(field);
    this.map = map ? new Map(Object.entries(map)) : undefined;
    this.known = new Set(Object.keys(tenants.tenants));
    this.acceptAnyValidId = tenants.default_route !== undefined;
  }

  resolve(record: Record<string, unknown>): string | Rejection {
    const raw = this.get(record);
    const value = this.map && typeof raw === 'string' ? this.map.get(raw) : raw;
    if (this.map && value === undefined && typeof raw === 'string' && raw !== '') {
      return { reason: 'unroutable', detail: `field "${this.field}" has no tenant mapping` };
    }
    if (typeof value === 'string' && (this.known.has(value) || (this.acceptAnyValidId && isValidTenantId(value)))) return value;
    if (value === undefined || value === null || value === '') {
      return { reason: 'unroutable', detail: `no tenant: field "${this.field}" is empty` };
    }
    return { reason: 'unroutable', detail: `field "${this.field}" names no declared tenant` };
  }
}
