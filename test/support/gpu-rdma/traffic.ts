import { seededRandom } from '../seeded-random.ts';

/**
 * Synthetic GPU / RDMA node metrics for pipelines/gpu-rdma.yaml, deterministic for a seed: what
 * dcgm-exporter and node_exporter's InfiniBand collector expose (the label sets and families of
 * test/fixtures/codecs/prometheus-text/dcgm-exporter.prom and node-infiniband.prom, values
 * generated), pushed Pushgateway-style once per node per scrape (every 5 s). Each push is one Kafka
 * message: key = push path `job/<job>/instance/<instance>/cluster/<cluster>`, header `push_time_ms` =
 * the scrape time, value = the exposition text exactly as the exporter writes it. dcgm pushes name
 * the bare node as instance; node_exporter pushes name the scrape target as Prometheus does,
 * `host:9100` (ib-node-01:9100) or fully qualified (gpu-node-18.cluster.local:9100): the
 * pipeline must still route them by node name.
 *
 * The fleet:
 * - gpu-node-17 (cluster bj-h800-a): GPU 0 runs a vLLM pod in namespace llm-serving (→ acme), GPU 1
 *   is unallocated (empty namespace: routed by node, gpu-node-17 → acme; its profiling fields read
 *   NaN, which Prometheus stores and the passthrough forwards). Scrapes exactly on the 5 s grid,
 *   so some samples sit exactly on a window start.
 * - gpu-node-18 (cluster bj-h800-b): GPUs 0 and 1 run a training job (namespace training → globex),
 *   GPU 2 a vLLM pod of llm-serving (→ acme: the namespace wins over the node). GPU 1 reports XID 79
 *   for four scrapes across a window boundary. Also runs node_exporter with one HCA (→ globex).
 * - ib-node-01 (cluster bj-h800-b): node_exporter only, two HCAs (→ initech); one driver reload
 *   (every counter restarts from a small value) and link-down events before and after it.
 * - gpu-node-42 (cluster bj-h800-a): not in the tenant map; pushes a few times (→ DLQ `unroutable`).
 * - one gpu-node-18 dcgm push is truncated mid-line by a broken pusher (→ DLQ `malformed`).
 */

export const TOPIC = 'node.metrics';
export const SCRAPE_INTERVAL_MS = 5_000;
export const SCRAPES = 36; // 3 minutes
export const FB_TOTAL_MIB = 81_003;

export type ExporterJob = 'dcgm' | 'node';

/** One exposed sample: labels in the exporter's order, the value as written and as a number. */
export interface ExposedSample {
  readonly labels: readonly (readonly [string, string])[];
  readonly text: string;
  readonly value: number;
}

export interface ExposedFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  readonly samples: ExposedSample[];
}

/** One push: a node's scrape, at `timeMs`, as the exporter exposed it. */
export interface Scrape {
  readonly job: ExporterJob;
  readonly node: string;
  /** The push path's instance: the node, or its scrape target `host:port`. */
  readonly instance: string;
  readonly cluster: string;
  /** Scrape index 0..SCRAPES-1. */
  readonly k: number;
  readonly timeMs: number;
  readonly families: readonly ExposedFamily[];
  /** A truncated push: the message is malformed and none of its samples count. */
  readonly truncated: boolean;
}

export interface ScrapeMessage {
  readonly scrape: Scrape;
  readonly key: string;
  readonly value: Buffer;
  readonly headers: { push_time_ms: string };
}

// ---------------------------------------------------------------------------------------------
// Fleet

type GpuProfile = 'serving' | 'training' | 'idle';

interface GpuSpec {
  readonly gpu: string;
  readonly uuid: string;
  readonly pciBusId: string;
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly profile: GpuProfile;
  /** Scrape index → XID reported (DCGM_FI_DEV_XID_ERRORS holds the last XID; 0 = none). */
  readonly xids?: Readonly<Record<number, number>>;
}

interface DcgmNode {
  readonly node: string;
  readonly cluster: string;
  /** Push time offset within the 5 s grid, and whether it jitters. */
  readonly offsetMs: number;
  readonly jitter: boolean;
  readonly gpus: readonly GpuSpec[];
  /** Which scrape indexes this node pushes (default: all). */
  readonly scrapes?: readonly number[];
  /** Scrape index whose push arrives truncated. */
  readonly truncatedAt?: number;
}

interface HcaSpec {
  readonly device: string;
  readonly boardId: string;
  /** Receive/transmit throughput range, bytes/s. */
  readonly busy: number;
  /** Scrape indexes at which the port's link goes down once (and recovers). */
  readonly linkDowns: readonly number[];
  /** Symbol errors per scrape: a noisy cable or not. */
  readonly noisy: boolean;
  /** Counter values when the exporter first sees them (the node has been up for a while). */
  readonly start: { readonly rx: number; readonly tx: number; readonly linkDowned: number; readonly symbolErrors: number; readonly cnp: number };
}

interface IbNode {
  readonly node: string;
  /** The scrape target the pusher names as instance. */
  readonly instance: string;
  readonly cluster: string;
  readonly offsetMs: number;
  readonly hcas: readonly HcaSpec[];
  /** Scrape index at which the mlx5 driver was reloaded: every hardware counter restarts. */
  readonly driverReloadAt?: number;
}

export const DCGM_NODES: readonly DcgmNode[] = [
  {
    node: 'gpu-node-17',
    cluster: 'bj-h800-a',
    offsetMs: 0,
    jitter: false,
    gpus: [
      {
        gpu: '0',
        uuid: 'GPU-5a3c2f1e-8d4b-4c7a-9e21-0f6b3d8a1c44',
        pciBusId: '00000000:18:00.0',
        namespace: 'llm-serving',
        pod: 'qwen-72b-7d9f-x2',
        container: 'vllm',
        profile: 'serving',
        xids: { 27: 31 },
      },
      {
        gpu: '1',
        uuid: 'GPU-c81e728d-9d4c-4f63-b1a2-7e5d0c3f9b16',
        pciBusId: '00000000:2A:00.0',
        namespace: '',
        pod: '',
        container: '',
        profile: 'idle',
      },
    ],
  },
  {
    node: 'gpu-node-18',
    cluster: 'bj-h800-b',
    offsetMs: 2_411,
    jitter: true,
    truncatedAt: 11,
    gpus: [
      {
        gpu: '0',
        uuid: 'GPU-0e7c1b9a-33d2-4f8e-a6c5-5b1d2e9f7a30',
        pciBusId: '00000000:18:00.0',
        namespace: 'training',
        pod: 'llama-sft-worker-0',
        container: 'pytorch',
        profile: 'training',
      },
      {
        gpu: '1',
        uuid: 'GPU-9f4d6a21-c0b8-47e3-8d15-a2c7e6b40f59',
        pciBusId: '00000000:2A:00.0',
        namespace: 'training',
        pod: 'llama-sft-worker-0',
        container: 'pytorch',
        profile: 'training',
        xids: { 16: 79, 17: 79, 18: 79, 19: 79 },
      },
      {
        gpu: '2',
        uuid: 'GPU-47b2e8c3-1a6f-4d09-b7e4-c3f8a5d21e66',
        pciBusId: '00000000:3A:00.0',
        namespace: 'llm-serving',
        pod: 'qwen-72b-7d9f-k8',
        container: 'vllm',
        profile: 'serving',
      },
    ],
  },
  {
    node: 'gpu-node-42',
    cluster: 'bj-h800-a',
    offsetMs: 4_020,
    jitter: true,
    scrapes: [3, 4, 5],
    gpus: [
      {
        gpu: '0',
        uuid: 'GPU-d3a1f0b7-6e2c-4b95-8f3a-1c9e7b2d5a08',
        pciBusId: '00000000:18:00.0',
        namespace: '',
        pod: '',
        container: '',
        profile: 'idle',
      },
    ],
  },
];

export const IB_NODES: readonly IbNode[] = [
  {
    node: 'ib-node-01',
    instance: 'ib-node-01:9100',
    cluster: 'bj-h800-b',
    offsetMs: 893,
    driverReloadAt: 20,
    hcas: [
      {
        device: 'mlx5_0',
        boardId: 'MT_0000000838',
        busy: 9e9,
        linkDowns: [30],
        noisy: false,
        start: { rx: 847_625_384_960, tx: 891_203_829_760, linkDowned: 0, symbolErrors: 0, cnp: 18_234 },
      },
      {
        device: 'mlx5_1',
        boardId: 'MT_0000000838',
        busy: 6e9,
        linkDowns: [9, 20, 27],
        noisy: true,
        start: { rx: 793_110_456_320, tx: 810_423_700_480, linkDowned: 2, symbolErrors: 1_843, cnp: 2_201_977 },
      },
    ],
  },
  {
    node: 'gpu-node-18',
    instance: 'gpu-node-18.cluster.local:9100',
    cluster: 'bj-h800-b',
    offsetMs: 2_950,
    hcas: [
      {
        device: 'mlx5_0',
        boardId: 'MT_0000000970',
        busy: 20e9,
        linkDowns: [],
        noisy: false,
        start: { rx: 3_214_009_117_184, tx: 3_302_418_220_032, linkDowned: 1, symbolErrors: 0, cnp: 904_112 },
      },
    ],
  },
];

/** The push path (the Kafka key) of a node's exporter; `instance` is URL-encoded, as a pusher does. */
export function pushPath(job: ExporterJob, instance: string, cluster: string): string {
  return `job/${job}/instance/${encodeURIComponent(instance)}/cluster/${cluster}`;
}

// ---------------------------------------------------------------------------------------------
// Generation

/**
 * Every push of the fleet, in push-time order. `startMs` is the first scrape tick (the test
 * aligns it to a window start).
 */
export function generateScrapes(startMs: number, seed = 17): Scrape[] {
  const random = seededRandom(seed);
  const scrapes: Scrape[] = [];
  for (const node of DCGM_NODES) scrapes.push(...dcgmScrapes(node, startMs, random));
  for (const node of IB_NODES) scrapes.push(...ibScrapes(node, startMs, random));
  return scrapes.sort((a, b) => a.timeMs - b.timeMs || a.node.localeCompare(b.node) || a.job.localeCompare(b.job));
}

function pushTime(startMs: number, k: number, offsetMs: number, jitter: boolean, random: () => number): number {
  return startMs + k * SCRAPE_INTERVAL_MS + offsetMs + (jitter ? Math.floor(random() * 80) : 0);
}

interface GpuState {
  energyMj: number;
  pcieReplays: number;
  fbUsed: number;
}

const DCGM_FAMILIES: readonly { name: string; help: string; type: 'gauge' | 'counter' }[] = [
  { name: 'DCGM_FI_DEV_SM_CLOCK', help: 'SM clock frequency (in MHz).', type: 'gauge' },
  { name: 'DCGM_FI_DEV_MEM_CLOCK', help: 'Memory clock frequency (in MHz).', type: 'gauge' },
  { name: 'DCGM_FI_DEV_MEMORY_TEMP', help: 'Memory temperature (in C).', type: 'gauge' },
  { name: 'DCGM_FI_DEV_GPU_TEMP', help: 'GPU temperature (in C).', type: 'gauge' },
  { name: 'DCGM_FI_DEV_POWER_USAGE', help: 'Power draw (in W).', type: 'gauge' },
  { name: 'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION', help: 'Total energy consumption since boot (in mJ).', type: 'counter' },
  { name: 'DCGM_FI_DEV_PCIE_REPLAY_COUNTER', help: 'Total number of PCIe retries.', type: 'counter' },
  { name: 'DCGM_FI_DEV_GPU_UTIL', help: 'GPU utilization (in %).', type: 'gauge' },
  { name: 'DCGM_FI_DEV_MEM_COPY_UTIL', help: 'Memory utilization (in %).', type: 'gauge' },
  { name: 'DCGM_FI_DEV_XID_ERRORS', help: 'Value of the last XID error encountered.', type: 'gauge' },
  { name: 'DCGM_FI_DEV_FB_FREE', help: 'Framebuffer memory free (in MiB).', type: 'gauge' },
  { name: 'DCGM_FI_DEV_FB_USED', help: 'Framebuffer memory used (in MiB).', type: 'gauge' },
  { name: 'DCGM_FI_PROF_GR_ENGINE_ACTIVE', help: 'Ratio of time the graphics engine is active.', type: 'gauge' },
  { name: 'DCGM_FI_PROF_PIPE_TENSOR_ACTIVE', help: 'Ratio of cycles the tensor (HMMA) pipe is active.', type: 'gauge' },
  { name: 'DCGM_FI_PROF_DRAM_ACTIVE', help: 'Ratio of cycles the device memory interface is active sending or receiving data.', type: 'gauge' },
];

/** What DCGM reports for a field it cannot read (DCGM_INT64_NOT_SUPPORTED); dcgm-exporter prints it as is. */
const DCGM_INT64_NOT_SUPPORTED = '9223372036854775794';

function dcgmScrapes(spec: DcgmNode, startMs: number, random: () => number): Scrape[] {
  const states = new Map<string, GpuState>(
    spec.gpus.map((g) => [
      g.gpu,
      {
        energyMj: 80_000_000_000 + Math.floor(random() * 9_000_000_000),
        pcieReplays: g.profile === 'idle' ? 3 : 0,
        fbUsed: g.profile === 'serving' ? 77_591 : g.profile === 'training' ? 61_440 : 0,
      },
    ]),
  );
  const out: Scrape[] = [];
  const indexes = spec.scrapes ?? Array.from({ length: SCRAPES }, (_, k) => k);
  for (const k of indexes) {
    const timeMs = pushTime(startMs, k, spec.offsetMs, spec.jitter, random);
    const values = new Map<string, string[]>(DCGM_FAMILIES.map((f) => [f.name, []]));
    for (const gpu of spec.gpus) {
      const state = states.get(gpu.gpu)!;
      const xid = gpu.xids?.[k] ?? 0;
      let util: number;
      switch (gpu.profile) {
        case 'serving':
          util = Math.round(68 + 26 * Math.sin(k / 3.7 + Number(gpu.gpu)) + (random() - 0.5) * 10);
          break;
        case 'training':
          util = xid !== 0 ? 0 : Math.round(93 + random() * 7);
          break;
        case 'idle':
          util = random() < 0.15 ? 1 + Math.floor(random() * 4) : 0;
          break;
      }
      util = Math.max(0, Math.min(100, util));
      if (gpu.profile === 'serving') state.fbUsed = Math.max(40_000, Math.min(80_000, state.fbUsed + Math.round((random() - 0.45) * 1_500)));
      else if (gpu.profile === 'training') state.fbUsed = xid !== 0 ? state.fbUsed : Math.min(79_800, state.fbUsed + 64 * Math.floor(random() * 40));
      else state.fbUsed = random() < 0.2 ? 512 : 0;
      const temp = gpu.profile === 'idle' ? 32 + Math.floor(random() * 3) : Math.round(44 + util * 0.3 + random() * 4);
      const power = gpu.profile === 'idle' ? 68 + random() * 6 : 150 + util * 5.2 + random() * 30;
      state.energyMj += Math.round(power * SCRAPE_INTERVAL_MS);
      if (gpu.profile === 'training' && random() < 0.05) state.pcieReplays += 1;
      const active = util / 100;
      const push = (family: string, text: string) => values.get(family)!.push(text);
      push('DCGM_FI_DEV_SM_CLOCK', util > 0 ? '1980' : '345');
      push('DCGM_FI_DEV_MEM_CLOCK', '2619');
      push('DCGM_FI_DEV_MEMORY_TEMP', gpu.profile === 'idle' ? DCGM_INT64_NOT_SUPPORTED : String(temp - 12));
      push('DCGM_FI_DEV_GPU_TEMP', String(temp));
      push('DCGM_FI_DEV_POWER_USAGE', power.toFixed(6));
      push('DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION', String(state.energyMj));
      push('DCGM_FI_DEV_PCIE_REPLAY_COUNTER', String(state.pcieReplays));
      push('DCGM_FI_DEV_GPU_UTIL', String(util));
      push('DCGM_FI_DEV_MEM_COPY_UTIL', String(Math.round(util * 0.45)));
      push('DCGM_FI_DEV_XID_ERRORS', String(xid));
      push('DCGM_FI_DEV_FB_FREE', String(FB_TOTAL_MIB - state.fbUsed));
      push('DCGM_FI_DEV_FB_USED', String(state.fbUsed));
      push('DCGM_FI_PROF_GR_ENGINE_ACTIVE', (active * (0.95 + random() * 0.05)).toFixed(6));
      // An unallocated GPU's profiling fields are not sampled: dcgm-exporter prints NaN.
      const tensor = (active * (0.45 + random() * 0.2)).toFixed(6);
      push('DCGM_FI_PROF_PIPE_TENSOR_ACTIVE', gpu.profile === 'idle' ? 'NaN' : tensor);
      push('DCGM_FI_PROF_DRAM_ACTIVE', (util === 0 ? 0.00001 : active * (0.6 + random() * 0.15)).toFixed(6));
    }
    const families = DCGM_FAMILIES.map((f) => ({
      ...f,
      samples: values.get(f.name)!.map((text, i) => sample(dcgmLabels(spec.node, spec.gpus[i]!), text)),
    }));
    out.push({ job: 'dcgm', node: spec.node, instance: spec.node, cluster: spec.cluster, k, timeMs, families, truncated: spec.truncatedAt === k });
  }
  return out;
}

/** dcgm-exporter's label set, in its order (see the dcgm-exporter.prom fixture). */
function dcgmLabels(node: string, gpu: GpuSpec): [string, string][] {
  return [
    ['gpu', gpu.gpu],
    ['UUID', gpu.uuid],
    ['pci_bus_id', gpu.pciBusId],
    ['device', `nvidia${gpu.gpu}`],
    ['modelName', 'NVIDIA H800'],
    ['Hostname', node],
    ['container', gpu.container],
    ['namespace', gpu.namespace],
    ['pod', gpu.pod],
    ['DCGM_FI_DRIVER_VERSION', '550.90.07'],
  ];
}

interface HcaState {
  rx: number;
  tx: number;
  packets: number;
  linkDowned: number;
  linkRecoveries: number;
  symbolErrors: number;
  portErrors: number;
  cnpSent: number;
  ecnMarked: number;
  cnpHandled: number;
  outOfSequence: number;
  sequenceErrors: number;
}

const IB_FAMILIES: readonly { name: string; help: string; type: 'gauge' | 'counter'; read?: (s: HcaState) => number; fixed?: string }[] = [
  { name: 'node_infiniband_state_id', help: 'State of the InfiniBand port (0: no change, 1: down, 2: init, 3: armed, 4: active, 5: act defer)', type: 'gauge', fixed: '4' },
  {
    name: 'node_infiniband_physical_state_id',
    help: 'Physical state of the InfiniBand port (0: no change, 1: sleep, 2: polling, 3: disable, 4: shift, 5: link up, 6: link error recover, 7: phytest)',
    type: 'gauge',
    fixed: '5',
  },
  { name: 'node_infiniband_rate_bytes_per_second', help: 'Maximum signal transfer rate', type: 'gauge', fixed: '5e+10' },
  { name: 'node_infiniband_port_data_received_bytes_total', help: 'Data octets received on all links', type: 'counter', read: (s) => s.rx },
  { name: 'node_infiniband_port_data_transmitted_bytes_total', help: 'Data octets transmitted on all links', type: 'counter', read: (s) => s.tx },
  { name: 'node_infiniband_port_packets_received_total', help: 'Packets received on all virtual lanes, errors included', type: 'counter', read: (s) => s.packets },
  { name: 'node_infiniband_link_downed_total', help: 'Times the link failed to recover from an error state and went down', type: 'counter', read: (s) => s.linkDowned },
  { name: 'node_infiniband_link_error_recovery_total', help: 'Times the link recovered from an error state', type: 'counter', read: (s) => s.linkRecoveries },
  { name: 'node_infiniband_symbol_error_total', help: 'Minor link errors detected on one or more physical lanes', type: 'counter', read: (s) => s.symbolErrors },
  { name: 'node_infiniband_port_errors_received_total', help: 'Packets with an error received on this port', type: 'counter', read: (s) => s.portErrors },
  {
    name: 'node_infiniband_np_cnp_packets_sent_total',
    help: 'CNP packets the notification point sent on seeing ECN congestion marks (RoCEv2)',
    type: 'counter',
    read: (s) => s.cnpSent,
  },
  {
    name: 'node_infiniband_np_ecn_marked_roce_packets_received_total',
    help: 'RoCEv2 packets received with ECN congestion-experienced marks',
    type: 'counter',
    read: (s) => s.ecnMarked,
  },
  { name: 'node_infiniband_rp_cnp_packets_handled_total', help: 'CNP packets the reaction point handled by throttling its rate', type: 'counter', read: (s) => s.cnpHandled },
  { name: 'node_infiniband_out_of_sequence_packets_received_total', help: 'Out-of-sequence packets received', type: 'counter', read: (s) => s.outOfSequence },
  { name: 'node_infiniband_packet_sequence_errors_total', help: 'NAK sequence error packets received', type: 'counter', read: (s) => s.sequenceErrors },
];

function ibScrapes(spec: IbNode, startMs: number, random: () => number): Scrape[] {
  const fresh = (start: HcaSpec['start'], scale: number): HcaState => ({
    rx: start.rx,
    tx: start.tx,
    packets: Math.floor(start.rx / 4_096),
    linkDowned: start.linkDowned,
    linkRecoveries: start.linkDowned * 2 + 1,
    symbolErrors: start.symbolErrors,
    portErrors: Math.floor(start.symbolErrors / 150),
    cnpSent: start.cnp,
    ecnMarked: start.cnp + Math.floor(start.cnp / 2_000),
    cnpHandled: Math.floor(start.cnp * 0.9),
    outOfSequence: Math.floor(311 * scale),
    sequenceErrors: Math.floor(97 * scale),
  });
  const states = spec.hcas.map((h) => fresh(h.start, h.noisy ? 1 : 0));
  let cpuSeconds = 1_843_220.31;
  const out: Scrape[] = [];
  for (let k = 0; k < SCRAPES; k++) {
    const timeMs = pushTime(startMs, k, spec.offsetMs, true, random);
    spec.hcas.forEach((hca, i) => {
      const s = states[i]!;
      if (spec.driverReloadAt === k) {
        // mlx5 reload: the HCA's counters restart from zero, a few seconds before this scrape.
        const seconds = 1 + random() * 3;
        s.rx = Math.floor(hca.busy * seconds);
        s.tx = Math.floor(hca.busy * 1.03 * seconds);
        s.packets = Math.floor(s.rx / 4_096);
        s.linkDowned = hca.linkDowns.includes(k) ? 1 : 0;
        s.linkRecoveries = s.linkDowned;
        s.symbolErrors = hca.noisy ? 2 : 0;
        s.portErrors = 0;
        s.cnpSent = Math.floor(random() * 300);
        s.ecnMarked = s.cnpSent + 4;
        s.cnpHandled = Math.floor(s.cnpSent * 0.9);
        s.outOfSequence = 0;
        s.sequenceErrors = 0;
        return;
      }
      const rx = Math.floor(hca.busy * (0.6 + random() * 0.8) * (SCRAPE_INTERVAL_MS / 1000));
      s.rx += rx;
      s.tx += Math.floor(rx * (0.9 + random() * 0.2));
      s.packets += Math.floor(rx / 4_096);
      if (hca.linkDowns.includes(k)) {
        s.linkDowned += 1;
        s.linkRecoveries += 2;
      }
      if (hca.noisy) {
        s.symbolErrors += Math.floor(random() * 4);
        if (random() < 0.2) s.portErrors += 1;
        if (random() < 0.3) s.outOfSequence += Math.floor(random() * 5);
        if (random() < 0.2) s.sequenceErrors += 1;
      }
      const cnp = Math.floor(random() * (hca.noisy ? 9_000 : 600));
      s.cnpSent += cnp;
      s.ecnMarked += cnp + Math.floor(random() * 10);
      s.cnpHandled += Math.floor(cnp * 0.9);
    });
    cpuSeconds += 5 * 96 * (0.2 + random() * 0.1);
    const port = (hca: HcaSpec): [string, string][] => [
      ['device', hca.device],
      ['port', '1'],
    ];
    const families: ExposedFamily[] = [
      // node_exporter's other collectors: not for this pipeline (its keep rule drops them).
      { name: 'node_cpu_seconds_total', help: 'Seconds the CPUs spent in each mode.', type: 'counter', samples: [sample([['cpu', '0'], ['mode', 'idle']], goFloat(Math.round(cpuSeconds * 100) / 100))] },
      {
        name: 'node_infiniband_info',
        help: 'Non-numeric data of an InfiniBand device from /sys/class/infiniband/<device>; the value is always 1.',
        type: 'gauge',
        samples: spec.hcas.map((h) =>
          sample(
            [
              ['board_id', h.boardId],
              ['device', h.device],
              ['firmware_version', '28.39.1002'],
              ['hca_type', 'MT4129'],
            ],
            '1',
          ),
        ),
      },
      ...IB_FAMILIES.map((f) => ({
        name: f.name,
        help: f.help,
        type: f.type,
        samples: spec.hcas.map((h, i) => sample(port(h), f.fixed ?? goFloat(f.read!(states[i]!)))),
      })),
      { name: 'node_load1', help: '1m load average.', type: 'gauge', samples: [sample([], goFloat(Math.round((20 + random() * 8) * 100) / 100))] },
    ];
    out.push({ job: 'node', node: spec.node, instance: spec.instance, cluster: spec.cluster, k, timeMs, families, truncated: false });
  }
  return out;
}

function sample(labels: readonly (readonly [string, string])[], text: string): ExposedSample {
  return { labels, text, value: Number(text) };
}

/**
 * A float as Go's client_golang writes it (strconv 'g', shortest: exponent form from 1e6 up and
 * below 1e-4), as node_exporter prints counters, e.g. 8.4762538496e+11, 2.201977e+06, 18234.
 */
export function goFloat(value: number): string {
  if (value === 0) return '0';
  const [mantissa, exponentText] = value.toExponential().split('e') as [string, string];
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 6) return `${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  return String(value);
}

// ---------------------------------------------------------------------------------------------
// Rendering and messages

/** The exposition text of a scrape, as the exporter writes it (HELP, TYPE, samples). */
export function renderExposition(scrape: Scrape): string {
  let text = '';
  for (const family of scrape.families) {
    text += `# HELP ${family.name} ${family.help}\n# TYPE ${family.name} ${family.type}\n`;
    for (const s of family.samples) {
      const labels = s.labels.map(([name, value]) => `${name}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',');
      text += `${family.name}${labels === '' ? '' : `{${labels}}`} ${s.text}\n`;
    }
  }
  return text;
}

/** A scrape as the pusher sends it to Kafka. A truncated push stops mid-way through a label value. */
export function toMessage(scrape: Scrape): ScrapeMessage {
  let text = renderExposition(scrape);
  if (scrape.truncated) {
    const cut = text.indexOf('DCGM_FI_DEV_GPU_UTIL{gpu="1",UUID="GPU-');
    if (cut < 0) throw new Error('toMessage: no place to truncate');
    text = text.slice(0, cut + 'DCGM_FI_DEV_GPU_UTIL{gpu="1",UUID="GPU-'.length + 6);
  }
  return {
    scrape,
    key: pushPath(scrape.job, scrape.instance, scrape.cluster),
    value: Buffer.from(text, 'utf8'),
    headers: { push_time_ms: String(scrape.timeMs) },
  };
}
