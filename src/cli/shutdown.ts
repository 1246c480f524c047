import type { Logger } from 'pino';

/**
 * Within this long of the first SIGINT / SIGTERM the process has exited: cleanly, or forced by
 * the watchdog. Below Kubernetes' default grace period (30 s) and below the 10 s operators expect.
 */
export const SHUTDOWN_BUDGET_MS = 9_000;
/** From the signal, how long the sinks may keep delivering; the rest waits in the checkpointed outbox. */
export const DELIVERY_BUDGET_MS = 4_000;
/** Exit code when the watchdog ends a shutdown that did not finish within the budget. */
export const FORCED_EXIT_CODE = 1;
/** After a clean stop the process exits by itself; if something still holds it open, this long later it is ended. */
const LINGER_MS = 1_000;

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Turns SIGINT and SIGTERM into one shutdown request, with a watchdog.
 *
 * A second signal does not force an exit: a terminal delivers Ctrl-C to the whole foreground
 * process group and `npm run` forwards it to its child as well, so one Ctrl-C often arrives twice.
 * Instead the watchdog bounds every shutdown: if it has not finished within SHUTDOWN_BUDGET_MS of
 * the first signal, it logs what is still open and exits with FORCED_EXIT_CODE.
 */
export class ShutdownSignals {
  private readonly controller = new AbortController();
  private requestedAt = 0;
  private watchdog: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: Logger,
    /** SHUTDOWN_BUDGET_MS; shorter in tests of the watchdog. */
    private readonly budgetMs = SHUTDOWN_BUDGET_MS,
  ) {
    for (const name of SIGNALS) process.on(name, this.onSignal);
  }

  /** Aborted by the first signal. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get requested(): boolean {
    return this.controller.signal.aborted;
  }

  /** Fires when the sinks must give up on deliveries: DELIVERY_BUDGET_MS after the signal. */
  deliveryDeadline(): AbortSignal {
    return AbortSignal.timeout(Math.max(0, this.requestedAt + DELIVERY_BUDGET_MS - Date.now()));
  }

  /** Resolves on the first signal. */
  untilRequested(): Promise<void> {
    if (this.requested) return Promise.resolve();
    return new Promise((resolve) => this.signal.addEventListener('abort', () => resolve(), { once: true }));
  }

  /** Everything is closed: stop the watchdog, and end the process if an unknown handle still holds it. */
  finished(): void {
    clearTimeout(this.watchdog);
    this.log.info({ shutdown_ms: this.requestedAt > 0 ? Date.now() - this.requestedAt : 0 }, 'sluice stopped');
    setTimeout(() => {
      this.log.warn({ open: process.getActiveResourcesInfo() }, 'resources still open after shutdown; exiting anyway');
      process.exit(process.exitCode ?? 0);
    }, LINGER_MS).unref();
  }

  private readonly onSignal = (name: NodeJS.Signals): void => {
    if (this.requested) {
      const left = Math.max(0, this.requestedAt + this.budgetMs - Date.now());
      this.log.warn({ signal: name, forced_exit_in_ms: left }, 'shutdown already in progress');
      return;
    }
    this.requestedAt = Date.now();
    this.log.info({ signal: name, budget_ms: this.budgetMs }, 'shutting down');
    this.watchdog = setTimeout(() => {
      this.log.error({ budget_ms: this.budgetMs, open: process.getActiveResourcesInfo() }, 'shutdown did not finish in time; forcing exit');
      process.exit(FORCED_EXIT_CODE);
    }, this.budgetMs);
    this.controller.abort();
  };
}
