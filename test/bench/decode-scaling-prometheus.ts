/**
 * Decode-scaling cases for `prometheus_text`: messages of a given size in ordinary and hostile
 * shapes, for the decode-scaling table of `npm run bench` (test/bench/decode-scaling.ts times
 * every codec's cases at 64 KB and 1 MB: linear decoding takes ≈ 16× as long for 16× the bytes,
 * a quadratic one ≈ 256×). On its own it prints this codec's table:
 *
 *   node --import tsx test/bench/decode-scaling-prometheus.ts
 *
 * Before the linear parser (issue 8): 50k labels on one line took 3.3 s and 100k more than 10 s;
 * a 1,000-label grouping key on 10k samples 7.7 s and 472 MB.
 */
import { pathToFileURL } from 'node:url';
import type { DecodeContext, Decoder } from '../../src/codecs/decoder.ts';
import { createDecoder, decodeConfigSchema } from '../../src/codecs/index.ts';

export interface DecodeScalingCase {
  readonly codec: 'prometheus_text';
  readonly shape: string;
  /** A message of about `bytes` bytes in this shape. */
  make(bytes: number): Buffer;
  /** The Kafka key and headers the message comes with (its grouping key); none when absent. */
  context?(bytes: number): DecodeContext;
  /** The pipeline's `decode:` section for this case. */
  readonly config: Readonly<Record<string, unknown>>;
  /** The source's `max_message_bytes` for a message of `bytes` (bounds the grouping key's expansion). */
  maxMessageBytes?(bytes: number): number;
}

const NO_KEY: DecodeContext = { key: null, headers: {} };
const JOB_KEY: DecodeContext = { key: Buffer.from('job/node/instance/ib-node-01%3A9100/cluster/bj-h800-b'), headers: {} };

/** Repeats `line(i)` until the text reaches `bytes`. */
function fill(bytes: number, line: (i: number) => string, head = ''): Buffer {
  const parts: string[] = [head];
  let size = head.length;
  for (let i = 0; size < bytes; i++) {
    const text = line(i);
    parts.push(text);
    size += text.length;
  }
  return Buffer.from(parts.join(''));
}

export const prometheusDecodeScalingCases: readonly DecodeScalingCase[] = [
  {
    codec: 'prometheus_text',
    shape: 'node_exporter-like: HELP/TYPE, 4 labels a sample',
    config: { codec: 'prometheus_text' },
    context: () => JOB_KEY,
    make: (bytes) =>
      fill(
        bytes,
        (i) => `node_infiniband_port_data_received_bytes_total{device="mlx5_${i % 8}",port="${(i >> 3) % 4}",lane="${i >> 5}",board_id="MT_0000000838"} ${8.4762538496e11 + i}\n`,
        '# HELP node_infiniband_port_data_received_bytes_total Data octets received on all links\n# TYPE node_infiniband_port_data_received_bytes_total counter\n',
      ),
  },
  {
    codec: 'prometheus_text',
    shape: 'hostile: one sample, all labels on one line',
    config: { codec: 'prometheus_text', grouping_key: { from: 'none' } },
    make: (bytes) => {
      const labels = fill(bytes - 8, (i) => `${i === 0 ? '' : ','}l${i}="v"`);
      return Buffer.concat([Buffer.from('m{'), labels, Buffer.from('} 1\n')]);
    },
  },
  {
    codec: 'prometheus_text',
    shape: 'hostile: one label value of escapes',
    config: { codec: 'prometheus_text', grouping_key: { from: 'none' } },
    make: (bytes) => Buffer.concat([Buffer.from('m{a="'), fill(bytes - 12, () => '\\n\\"'), Buffer.from('"} 1\n')]),
  },
  {
    codec: 'prometheus_text',
    shape: 'hostile: one family, a distinct series a line (duplicate check)',
    config: { codec: 'prometheus_text', grouping_key: { from: 'none' } },
    make: (bytes) => fill(bytes, (i) => `m{k="${i}"} 1\n`),
  },
  {
    codec: 'prometheus_text',
    shape: 'hostile: 1,000-label grouping key on every sample (refused at max_message_bytes)',
    config: { codec: 'prometheus_text' },
    context: () => ({ key: Buffer.from(`job/x/${Array.from({ length: 1_000 }, (_, i) => `g${i}/v${i}`).join('/')}`), headers: {} }),
    // The pipeline's bound is the message's own size here, so the work allowed grows with it.
    maxMessageBytes: (bytes) => bytes,
    make: (bytes) => fill(bytes, (i) => `m{k="${i}"} 1\n`),
  },
  {
    codec: 'prometheus_text',
    shape: 'hostile: comment lines only',
    config: { codec: 'prometheus_text', grouping_key: { from: 'none' } },
    make: (bytes) => fill(bytes, (i) => `# HELP m${i} ${'x'.repeat(60)}\n# some comment ${i}\n`),
  },
];

/** The decoder and the message's key and headers for a message of this case of about `bytes` bytes. */
export function decoderFor(c: DecodeScalingCase, bytes: number): { decoder: Decoder; context: DecodeContext } {
  const decoder = createDecoder(decodeConfigSchema.parse(c.config), { baseDir: '.', maxMessageBytes: c.maxMessageBytes?.(bytes) ?? Math.max(bytes, 1 << 20) });
  return { decoder, context: c.context?.(bytes) ?? NO_KEY };
}

/** Median wall time of decoding one message of this case, in ms. */
export function timeDecode(c: DecodeScalingCase, bytes: number, runs = 5): { ms: number; outcome: string } {
  const { decoder, context } = decoderFor(c, bytes);
  const message = c.make(bytes);
  const times: number[] = [];
  let outcome = '';
  for (let run = 0; run < runs; run++) {
    const start = process.hrtime.bigint();
    const result = decoder.decode(message, context);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    outcome = result.ok ? `${result.records.length} records` : result.reason;
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)]!, outcome };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const small = 64 * 1024;
  const large = 1024 * 1024;
  process.stdout.write('prometheus_text decode scaling (median of 5; linear ≈ 16×, quadratic ≈ 256×)\n');
  for (const c of prometheusDecodeScalingCases) {
    timeDecode(c, small, 3); // warm up the JIT on this shape
    const a = timeDecode(c, small);
    const b = timeDecode(c, large);
    process.stdout.write(`${c.shape.padEnd(82)} 64 KB ${a.ms.toFixed(1).padStart(8)} ms   1 MB ${b.ms.toFixed(1).padStart(8)} ms   ×${(b.ms / a.ms).toFixed(1).padStart(5)}   (${b.outcome})\n`);
  }
}
