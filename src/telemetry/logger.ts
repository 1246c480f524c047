import { pino, type Logger } from 'pino';

/** JSON logs on stdout (pino). `SLUICE_LOG_LEVEL` sets the level; secrets are redacted by path as a second line of defence. */
export function createLogger(level: string = process.env.SLUICE_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service: 'sluice' },
    redact: { paths: ['headers', '*.headers', 'authorization', '*.authorization', 'password', '*.password'], censor: '[redacted]' },
  });
}

export type { Logger };
