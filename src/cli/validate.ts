import { CodecConfigError } from '../codecs/decoder.ts';
import { ConfigError, formatPath, loadPipelineFile } from '../config/load.ts';
import { planMetrics } from '../operators/windowed-metrics/plan.ts';
import { Ingest } from '../runtime/ingest.ts';

/**
 * Validates each file: the schema, then everything built from it at start-up (codecs and their
 * schema files, expressions, metric plans), so a file that validates also starts. Prints problems,
 * never interpolated values (they may be secrets).
 */
export async function validateCommand(files: readonly string[]): Promise<number> {
  let failed = 0;
  for (const file of files) {
    try {
      const loaded = await loadPipelineFile(file);
      new Ingest(loaded);
      planMetrics(loaded.config.metrics);
      const { config } = loaded;
      process.stdout.write(`${file}: ok (pipeline ${config.name}, ${config.metrics.length} metrics, ${Object.keys(config.tenants.tenants).length} tenants)\n`);
    } catch (error) {
      failed++;
      if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
      else if (error instanceof CodecConfigError) process.stderr.write(`${file}: ${formatPath(['decode', ...error.path])}: ${error.message}\n`);
      else process.stderr.write(`${file}: ${(error as Error).message}\n`);
    }
  }
  return failed === 0 ? 0 : 1;
}
