/** Rate-limited logging: at most one line per kind every interval, with the count of lines suppressed since. */
import type { Logger } from 'pino';
import type { Clock } from './clock.ts';

/** How often a rate-limited log line may repeat, per tenant and kind. */
export const LOG_INTERVAL_MS = 10_000;

export class LogLimiter {
  private readonly lastLogged = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly intervalMs = LOG_INTERVAL_MS,
  ) {}

  warn(kind: string, fields: Record<string, unknown>, message: string, level: 'warn' | 'error' = 'warn'): void {
    const now = this.clock.now();
    const last = this.lastLogged.get(kind);
    if (last !== undefined && now - last.at < this.intervalMs) {
      last.suppressed++;
      return;
    }
    const suppressed = last?.suppressed ?? 0;
    this.lastLogged.set(kind, { at: now, suppressed: 0 });
    this.log[level](suppressed > 0 ? { ...fields, suppressed } : fields, message);
  }
}
