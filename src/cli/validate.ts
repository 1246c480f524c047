import { ConfigError, loadPipelineFile } from '../config/load.ts';

/** Validates each file; prints problems (never interpolated values, which may be secrets). */
export async function validateCommand(files: readonly string[]): Promise<number> {
  let failed = 0;
  for (const file of files) {
    try {
      const { config } = await loadPipelineFile(file);
      process.stdout.write(`${file}: ok (pipeline ${config.name}, ${config.metrics.length} metrics, ${Object.keys(config.tenants.tenants).length} tenants)\n`);
    } catch (error) {
      failed++;
      if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
      else process.stderr.write(`${file}: ${(error as Error).message}\n`);
    }
  }
  return failed === 0 ? 0 : 1;
}
