/**
 * The remote-write sink behind the point interface the runtime writes to. It hands points to
 * the tenant's sender, which flattens them into Prometheus samples as it queues them: no Sample
 * object and no series lookup per sample, as a FlatteningSink in front of it would cost.
 */
import type { MetricPoint, MetricSink } from '../../core/metric-model.ts';
import type { RemoteWriteSink } from './index.ts';

export class RemoteWritePointSink implements MetricSink {
  constructor(readonly sink: RemoteWriteSink) {}

  write(tenant: string, points: readonly MetricPoint[], onSettled?: () => void): void {
    this.sink.writePoints(tenant, points, onSettled);
  }

  flush(): Promise<void> {
    return this.sink.flush();
  }

  expedite(tenant: string): void {
    this.sink.expedite(tenant);
  }

  /** `deadline`: when to give up on unsettled samples (the sink's own default without it). */
  close(deadline?: AbortSignal): Promise<void> {
    return this.sink.close(deadline);
  }
}
