import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadPipelineFile } from '../../../src/config/load.ts';
import { unservedTelemetry } from '../../../src/runtime/process.ts';

const shipped = (file: string) => loadPipelineFile(fileURLToPath(new URL(`../../../pipelines/${file}`, import.meta.url)));

describe('one telemetry server per process', () => {
  it('names every later pipeline whose own telemetry.listen is not the address served', async () => {
    const gateway = await shipped('bailian-gateway.yaml');
    const gpu = await shipped('gpu-rdma.yaml');
    expect(gateway.config.telemetry.listen).not.toBe(gpu.config.telemetry.listen);
    expect(unservedTelemetry([gateway, gpu], gateway.config.telemetry.listen)).toEqual([{ pipeline: 'gpu-rdma', listen: gpu.config.telemetry.listen }]);
    // The same file twice, or a later file on the served address, leaves nothing unserved.
    expect(unservedTelemetry([gateway, gateway], gateway.config.telemetry.listen)).toEqual([]);
    expect(unservedTelemetry([gateway], gateway.config.telemetry.listen)).toEqual([]);
  });
});
