import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { isStaleMarker } from '../core/stale-marker.ts';
import type { Sample } from '../core/types.ts';
import type { SampleEmitter } from './offline-pipeline.ts';

/** Where a dry run's samples go instead of a tenant's receiver. */
export interface DryRunSink extends SampleEmitter {
  /** Lines summarising what was written, for the end of the run. */
  summary(): string[];
  close(): Promise<void>;
}

/** Counts samples per tenant and metric name (stale markers apart): what a config change would send. */
export class CountingSink implements DryRunSink {
  private readonly counts = new Map<string, Map<string, { samples: number; stale: number }>>();

  emit(tenant: string, samples: Sample[]): void {
    let metrics = this.counts.get(tenant);
    if (!metrics) this.counts.set(tenant, (metrics = new Map()));
    for (const sample of samples) {
      const name = sample.labels.find((l) => l.name === '__name__')?.value ?? '';
      let count = metrics.get(name);
      if (!count) metrics.set(name, (count = { samples: 0, stale: 0 }));
      if (isStaleMarker(sample.value)) count.stale++;
      else count.samples++;
    }
  }

  summary(): string[] {
    const lines: string[] = [];
    for (const tenant of [...this.counts.keys()].sort()) {
      const metrics = this.counts.get(tenant)!;
      const total = [...metrics.values()].reduce((sum, c) => sum + c.samples, 0);
      lines.push(`tenant ${tenant}: ${total} samples`);
      for (const name of [...metrics.keys()].sort()) {
        const { samples, stale } = metrics.get(name)!;
        lines.push(`  ${name} ${samples}${stale > 0 ? ` (+${stale} stale markers)` : ''}`);
      }
    }
    return lines;
  }

  async close(): Promise<void> {}
}

/** Writes every sample as a JSON line: tenant, name, labels, value (null and `stale` for a stale marker), timestamp. */
export class JsonLinesSink implements DryRunSink {
  private readonly out: WriteStream;
  private written = 0;

  constructor(private readonly file: string) {
    this.out = createWriteStream(file, { flags: 'w' });
  }

  emit(tenant: string, samples: Sample[]): void {
    let text = '';
    for (const sample of samples) {
      const labels: Record<string, string> = {};
      let name = '';
      for (const label of sample.labels) {
        if (label.name === '__name__') name = label.value;
        else labels[label.name] = label.value;
      }
      const stale = isStaleMarker(sample.value);
      text += `${JSON.stringify({ tenant, name, labels, value: stale ? null : sample.value, ...(stale ? { stale: true } : {}), timestamp: sample.timestampMs })}\n`;
    }
    this.written += samples.length;
    this.out.write(text);
  }

  summary(): string[] {
    return [`${this.written} samples written to ${this.file}`];
  }

  async close(): Promise<void> {
    this.out.end();
    await once(this.out, 'finish');
  }
}
