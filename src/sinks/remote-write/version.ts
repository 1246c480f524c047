/**
 * Sluice's version for the remote-write User-Agent. A constant rather than a
 * package.json read so the sink has no file-system or JSON-import dependency
 * at start-up; test/unit/remote-write/version.test.ts fails if it drifts.
 */
export const SLUICE_VERSION = '0.1.0';

export const USER_AGENT = `sluice/${SLUICE_VERSION}`;
