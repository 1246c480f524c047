import { ConfigError } from '../config/load.ts';
import { loadCheckedPipeline } from '../config/startup-check.ts';

/**
 * Validates each file: the schema, then everything start-up builds from it (codecs and their
 * schema files, expressions, metric plans, tenant secrets and TLS files), through the same code
 * `sluice run` loads with, so a file that validates also starts. Prints each problem as
 * file:line:col: path: message, never an environment-derived value (it may be a secret).
 */
export async function validateCommand(files: readonly string[]): Promise<number> {
  let failed = 0;
  for (const file of files) {
    try {
      const { config, source } = await loadCheckedPipeline(file);
      const name = source?.redact(config.name) ?? config.name;
      process.stdout.write(`${file}: ok (pipeline ${name}, ${config.metrics.length} metrics, ${Object.keys(config.tenants.tenants).length} tenants)\n`);
    } catch (error) {
      failed++;
      process.stderr.write(error instanceof ConfigError ? `${error.message}\n` : `${file}: ${(error as Error).message}\n`);
    }
  }
  return failed === 0 ? 0 : 1;
}
