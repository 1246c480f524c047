import { relabel } from './oracle.ts';
import { goFloat, pushPath, renderExposition, type ExposedFamily, type Scrape, type ScrapeMessage } from './traffic.ts';

/**
 * The two pushes that used to break dead-lettering (issue 8): a large node_exporter push from a
 * node the tenant map does not know, whose instance is `host:9100` as Prometheus writes it, and a
 * 2 MiB push that breaks off in a line with a 500 KB metric name.
 */

/** node_exporter's InfiniBand families (names and label sets as the collector exposes them). */
const IB_COUNTERS = [
  'node_infiniband_port_data_received_bytes_total',
  'node_infiniband_port_data_transmitted_bytes_total',
  'node_infiniband_port_packets_received_total',
  'node_infiniband_port_packets_transmitted_total',
  'node_infiniband_link_downed_total',
  'node_infiniband_link_error_recovery_total',
  'node_infiniband_symbol_error_total',
  'node_infiniband_port_errors_received_total',
  'node_infiniband_np_cnp_packets_sent_total',
  'node_infiniband_np_ecn_marked_roce_packets_received_total',
  'node_infiniband_rp_cnp_packets_handled_total',
  'node_infiniband_out_of_sequence_packets_received_total',
  'node_infiniband_packet_sequence_errors_total',
];
const CPU_MODES = ['idle', 'iowait', 'irq', 'nice', 'softirq', 'steal', 'system', 'user'];

/**
 * A full node_exporter push of a big InfiniBand host (`devices` HCA functions × 2 ports, and its
 * CPU and interrupt counters) of at least `minBytes`, from `node:9100`: every InfiniBand sample is
 * kept by the pipeline's relabelling, and none has a tenant; the rest is filtered out.
 */
export function unmappedNodeExporterPush(options: { node: string; cluster: string; timeMs: number; minBytes: number; devices?: number }): ScrapeMessage {
  const { node, cluster, timeMs, minBytes, devices = 32 } = options;
  const ports = Array.from({ length: devices }, (_, d) => ['1', '2'].map((port) => [['device', `mlx5_${d}`], ['port', port]] as [string, string][])).flat();
  const families: ExposedFamily[] = [
    { name: 'node_infiniband_state_id', help: 'State of the InfiniBand port (0: no change, 1: down, 2: init, 3: armed, 4: active, 5: act defer)', type: 'gauge', samples: ports.map((l) => sample(l, '4')) },
    { name: 'node_infiniband_rate_bytes_per_second', help: 'Maximum signal transfer rate', type: 'gauge', samples: ports.map((l) => sample(l, '5e+10')) },
    ...IB_COUNTERS.map((name, i): ExposedFamily => ({
      name,
      help: `InfiniBand counter ${name.slice('node_infiniband_'.length)}`,
      type: 'counter',
      samples: ports.map((l, p) => sample(l, goFloat((i + 1) * 1_000_003 * (p + 1)))),
    })),
    {
      name: 'node_cpu_seconds_total',
      help: 'Seconds the CPUs spent in each mode.',
      type: 'counter',
      samples: Array.from({ length: 192 }, (_, cpu) => CPU_MODES.map((mode, m) => sample([['cpu', String(cpu)], ['mode', mode]], goFloat(1_843_220.31 + cpu * 17 + m)))).flat(),
    },
  ];
  // Interrupt lines, a CPU's worth at a time, until the push is as large as asked.
  const interrupts: ExposedFamily = { name: 'node_interrupts_total', help: 'Interrupt details.', type: 'counter', samples: [] };
  families.push(interrupts);
  const scrape: Scrape = { job: 'node', node, instance: node, cluster, k: 0, timeMs, families, truncated: false };
  let bytes = Buffer.byteLength(renderExposition(scrape));
  for (let irq = 0; bytes < minBytes; irq++) {
    const line = (cpu: number) => sample([['cpu', String(cpu)], ['devices', `mlx5_comp${irq}@pci:0000:18:00.0`], ['info', ''], ['type', String(100 + irq)]], String(irq * 31 + cpu));
    const before = interrupts.samples.length;
    for (let cpu = 0; cpu < 16; cpu++) interrupts.samples.push(line(cpu));
    bytes += Buffer.byteLength(renderExposition({ ...scrape, families: [{ ...interrupts, samples: interrupts.samples.slice(before) }] })) - headerBytes(interrupts);
  }
  const value = Buffer.from(renderExposition(scrape), 'utf8');
  return { scrape, key: pushPath(scrape.job, scrape.node, scrape.cluster), value, headers: { push_time_ms: String(timeMs) } };
}

/** The HELP and TYPE lines of a family. */
function headerBytes(family: ExposedFamily): number {
  return Buffer.byteLength(renderExposition({ job: 'node', node: '', instance: '', cluster: '', k: 0, timeMs: 0, families: [{ ...family, samples: [] }], truncated: false }));
}

/** How a push's samples fare in the pipeline's relabelling: kept (all of them unroutable here) and filtered out. */
export function keptAndFiltered(message: ScrapeMessage): { kept: number; unroutable: number; filtered: number } {
  const kept = relabel([message.scrape]);
  const all = message.scrape.families.reduce((n, f) => n + f.samples.length, 0);
  return { kept: kept.length, unroutable: kept.filter((s) => s.tenant === undefined).length, filtered: all - kept.length };
}

/**
 * Exactly `bytes` of exposition from a mapped node that breaks off in a sample line whose metric
 * name is `nameBytes` long and whose label set never closes: malformed as a whole.
 */
export function brokenPush(options: { job: 'dcgm' | 'node'; node: string; cluster: string; timeMs: number; bytes: number; nameBytes: number }): { key: string; value: Buffer; headers: { push_time_ms: string } } {
  const { job, node, cluster, timeMs, bytes, nameBytes } = options;
  const tail = `node_infiniband_${'x'.repeat(nameBytes)}{device="mlx5_0",port="1" 7\n`;
  const lines = ['# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.\n# TYPE node_cpu_seconds_total counter\n'];
  let size = lines[0]!.length + tail.length; // ASCII: characters are bytes
  for (let i = 0; size < bytes; i++) {
    const line = `node_cpu_seconds_total{cpu="${i % 192}",mode="${CPU_MODES[i % 8]}"} ${1000 + i}\n`;
    lines.push(line);
    size += line.length;
  }
  // The last full line may overshoot: shorten the name so the message is exactly `bytes`.
  const value = Buffer.from(lines.join('') + tail.replace('x'.repeat(size - bytes), ''), 'utf8');
  if (value.length !== bytes) throw new Error(`brokenPush: ${value.length} bytes, not ${bytes}`);
  return { key: pushPath(job, node, cluster), value, headers: { push_time_ms: String(timeMs) } };
}

function sample(labels: readonly (readonly [string, string])[], text: string) {
  return { labels, text, value: Number(text) };
}
