import { describe, expect, it } from 'vitest';
import type { DecodeContext, DecodeOutcome } from '../../../src/codecs/decoder.ts';
import { createPrometheusTextDecoder, prometheusTextDecodeConfigSchema, type PrometheusSampleRecord } from '../../../src/codecs/prometheus-text/index.ts';
import { expectGolden, fixture, readFixture } from './support/golden.ts';

const build = (config: Record<string, unknown> = {}) =>
  createPrometheusTextDecoder(prometheusTextDecodeConfigSchema.parse({ codec: 'prometheus_text', ...config }), { baseDir: '.' });
const context = (key: string | null, headers: DecodeContext['headers'] = {}): DecodeContext => ({ key: key === null ? null : Buffer.from(key), headers });
const KEY = context('job/batch');
const records = (outcome: DecodeOutcome) => {
  if (!outcome.ok) throw new Error(`rejected: ${outcome.detail}`);
  return outcome.records;
};
const rejected = (detail: string) => ({ ok: false, reason: 'malformed', detail });

describe('prometheus_text codec: golden payloads', () => {
  it('decodes a dcgm-exporter payload, grouping key from the message key', () => {
    const outcome = build().decode(readFixture('prometheus-text/dcgm-exporter.prom'), context('job/dcgm-exporter/instance/gpu-node-17:9400/cluster/bj-prod-a'));
    const samples = records(outcome);
    expect(samples).toHaveLength(30);
    expect(samples[0]).toStrictEqual({
      name: 'DCGM_FI_DEV_SM_CLOCK',
      family: 'DCGM_FI_DEV_SM_CLOCK',
      type: 'gauge',
      labels: {
        gpu: '0',
        UUID: 'GPU-5a3c2f1e-8d4b-4c7a-9e21-0f6b3d8a1c44',
        pci_bus_id: '00000000:18:00.0',
        device: 'nvidia0',
        modelName: 'NVIDIA H800',
        Hostname: 'gpu-node-17',
        container: 'vllm',
        namespace: 'llm-serving',
        pod: 'qwen-72b-7d9f-x2',
        DCGM_FI_DRIVER_VERSION: '550.90.07',
        job: 'dcgm-exporter',
        instance: 'gpu-node-17:9400',
        cluster: 'bj-prod-a',
      },
      value: 1980,
      timestamp_ms: undefined,
    });
    expectGolden(samples, fixture('prometheus-text/dcgm-exporter.expected.json'));
  });

  it('decodes a node_exporter InfiniBand / RoCE payload, grouping key and push time from headers', () => {
    const decoder = build({ grouping_key: { from: 'headers' }, timestamp_header: 'push_time_ms' });
    const outcome = decoder.decode(
      readFixture('prometheus-text/node-infiniband.prom'),
      context(null, { 'grouping.job': 'node', 'grouping.instance': Buffer.from('gpu-node-17:9100'), push_time_ms: '1790000000000', traceparent: 'ignored' }),
    );
    const samples = records(outcome);
    expect(samples).toHaveLength(40);
    expect(samples.every((s) => s.timestamp_ms === 1_790_000_000_000 && (s.labels as Record<string, string>).job === 'node')).toBe(true);
    expectGolden(samples, fixture('prometheus-text/node-infiniband.expected.json'));
  });

  it('decodes every metric type, escapes, NaN / ±Inf and sample timestamps', () => {
    const samples = records(build({ grouping_key: { from: 'none' }, timestamp_header: 'push_time_ms' }).decode(readFixture('prometheus-text/batch-job.prom'), context(null, { push_time_ms: '1790000009999' })));
    expect(samples.map((s) => [s.name, s.family, s.type])).toEqual([
      ['training_step_duration_seconds_bucket', 'training_step_duration_seconds', 'histogram'],
      ['training_step_duration_seconds_bucket', 'training_step_duration_seconds', 'histogram'],
      ['training_step_duration_seconds_bucket', 'training_step_duration_seconds', 'histogram'],
      ['training_step_duration_seconds_sum', 'training_step_duration_seconds', 'histogram'],
      ['training_step_duration_seconds_count', 'training_step_duration_seconds', 'histogram'],
      ['checkpoint_write_seconds', 'checkpoint_write_seconds', 'summary'],
      ['checkpoint_write_seconds', 'checkpoint_write_seconds', 'summary'],
      ['checkpoint_write_seconds_sum', 'checkpoint_write_seconds', 'summary'],
      ['checkpoint_write_seconds_count', 'checkpoint_write_seconds', 'summary'],
      ['job_last_success_unixtime', 'job_last_success_unixtime', 'gauge'],
      ['job_loss_best', 'job_loss_best', 'untyped'],
      ['job_grad_norm_max', 'job_grad_norm_max', 'untyped'],
      ['job_grad_norm_min', 'job_grad_norm_min', 'untyped'],
      ['job_retries_total', 'job_retries_total', 'counter'],
      ['job_exit_code', 'job_exit_code', 'untyped'],
    ]);
    expect(samples[10]).toStrictEqual({
      name: 'job_loss_best',
      family: 'job_loss_best',
      type: 'untyped',
      labels: { run: 'ft-qwen"7b"\\v2', dataset: 'C:\\data\\sft', note: 'line1\nline2' },
      value: 0.0831,
      timestamp_ms: -1_700_000_000_000,
    });
    expect(samples[2]!.labels).toStrictEqual({ stage: 'train', le: '+Inf' });
    expect(samples[0]!.timestamp_ms).toBe(1_790_000_000_000); // its own timestamp beats the push time
    expect(samples[9]!.timestamp_ms).toBe(1_790_000_009_999);
    expect([samples[6]!.value, samples[11]!.value, samples[12]!.value]).toEqual([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    expectGolden(samples, fixture('prometheus-text/batch-job.expected.json'));
  });

  it('unescapes label values of any length exactly, non-ASCII and escapes mixed', () => {
    // Past 64K code units a value gets its own scratch, past 8K it is made in chunks (exposition-scanner.ts).
    for (const repeats of [1, 3_000, 40_000]) {
      const written = `head ${'é\\"😀\\\\x\\n'.repeat(repeats)} tail`;
      const expected = `head ${'é"😀\\x\n'.repeat(repeats)} tail`;
      const [sample] = records(build({ grouping_key: { from: 'none' } }).decode(Buffer.from(`m{a="${written}",b="plain"} 1\n`), KEY));
      expect(sample!.labels).toStrictEqual({ a: expected, b: 'plain' });
    }
  });

  it('accepts an empty payload and a last line without its newline', () => {
    expect(build().decode(Buffer.from(''), KEY)).toEqual({ ok: true, records: [] });
    expect(records(build().decode(Buffer.from('# only comments\nup 1'), KEY))).toEqual([{ name: 'up', family: 'up', type: 'untyped', labels: { job: 'batch' }, value: 1, timestamp_ms: undefined }]);
  });
});

describe('prometheus_text codec: bad lines reject the message, naming the line', () => {
  const decoder = build();
  it.each([
    ['up 1\nfoo{a="1\\x"} 1', 'line 2: invalid escape sequence in the value of label a of foo (only \\\\, \\" and \\n)'],
    ['foo{a="1} 1', 'line 1: unterminated value of label a of foo'],
    ['foo{a="x\\"y} 1', 'line 1: unterminated value of label a of foo'],
    ['foo{a="x\\n\\q"} 1', 'line 1: invalid escape sequence in the value of label a of foo (only \\\\, \\" and \\n)'],
    ['foo{a="1" b="2"} 1', "line 1: expected ',' or '}' after the value of label a of foo"],
    ['foo{a:"1"} 1', "line 1: expected '=' after label a of foo"],
    ['foo{a=1} 1', `line 1: expected '"' to open the value of label a of foo`],
    ['foo{1a="1"} 1', 'line 1: invalid label name in foo'],
    ['foo{a="1",a="2"} 1', 'line 1: label a is given twice in foo'],
    ['foo{__name__="bar"} 1', 'line 1: label name __name__ is reserved (foo)'],
    ['foo{a="1"', 'line 1: unterminated label set of foo'],
    ['foo', 'line 1: no value for foo'],
    ['foo abc', 'line 1: value of foo is not a number'],
    ['foo 1.5.5', 'line 1: value of foo is not a number'],
    ['foo 1e400', 'line 1: value of foo is not a number'],
    ['foo 0x1p3', 'line 1: value of foo is not a number'],
    ['foo 1 12.5', 'line 1: timestamp of foo is not an integer number of milliseconds within ±2^53'],
    ['foo 1 2 3', 'line 1: unexpected text after the timestamp of foo'],
    ['9foo 1', 'line 1: invalid metric name'],
    ['foo 1\r\nbar 2\r\n', 'line 1: line ends in \\r\\n; the format requires \\n line ends'],
    ['# TYPE foo gauge\n# TYPE foo counter\nfoo 1', 'line 2: second TYPE line for foo'],
    ['foo 1\n# TYPE foo gauge', 'line 2: TYPE line for foo after its samples'],
    ['# TYPE foo meter', 'line 1: unknown type in the TYPE line of foo (counter, gauge, histogram, gaugehistogram, summary or untyped)'],
    ['# TYPE foo gauge extra', 'line 1: unexpected text after the type in the TYPE line of foo'],
    ['# HELP foo a\\tb', 'line 1: invalid escape sequence in the HELP text of foo (only \\\\, \\" and \\n)'],
    ['foo 1 ', 'line 1: blank after the value of foo: a line ends with its value or its timestamp'],
    ['foo 1 1790000000000 \nbar 2', 'line 1: unexpected text after the timestamp of foo'],
    ['# TYPE h histogram\nh_bucket{le="1"} -3', 'line 2: negative bucket population in h_bucket of histogram h'],
    ['# TYPE h gaugehistogram\nh_count -0.5', 'line 2: negative count in h_count of histogram h'],
    ['# TYPE h histogram\n# TYPE h_count counter', 'line 2: second TYPE line for h'],
    ['# TYPE h histogram\nh_bucket{le="1",le="2"} 1', 'line 2: label le is given twice in h_bucket'],
    ['foo 1 0000000000000000001\nbar 1 12345678901234567', 'line 2: timestamp of bar is not an integer number of milliseconds within ±2^53'],
    ['# HELP foo a\n# HELP foo b', 'line 2: second HELP line for foo'],
    ['# HELP foo{ x', 'line 1: invalid metric name in HELP line'],
    ['# TYPE h histogram\nh_bucket 1', 'line 2: histogram bucket h_bucket has no le label'],
    ['# TYPE h histogram\nh_bucket{le="big"} 1', 'line 2: le label of h_bucket is not a number'],
    ['# TYPE h histogram\nh 1', 'line 2: histogram h has samples h_bucket, h_sum and h_count, not h'],
    ['# TYPE s summary\ns 1', 'line 2: summary quantile sample s has no quantile label'],
    ['foo{a="1",b="2"} 1\nbar 2\nfoo{b="2",a="1"} 3', 'line 3: duplicate sample: foo with the same labels as on line 1'],
    ['foo{a="x\\"y"} 1\nfoo{a="x\\"y"} 2', 'line 2: duplicate sample: foo with the same labels as on line 1'],
  ])('%j → %s', (input, detail) => {
    expect(decoder.decode(Buffer.from(input), KEY)).toEqual(rejected(`prometheus_text ${detail}`));
  });

  it('rejects bytes that are not UTF-8 (overlongs and encoded surrogates too), naming the line', () => {
    for (const bad of [[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80]]) {
      const outcome = decoder.decode(Buffer.concat([Buffer.from('up 1\nfoo{a="'), Buffer.from(bad), Buffer.from('"} 1\n')]), KEY);
      expect(outcome).toEqual(rejected('prometheus_text line 2: not UTF-8 (invalid byte sequence at byte 12)'));
    }
  });

  it('never echoes label values or HELP text', () => {
    const outcome = decoder.decode(Buffer.from('foo{user="alice@example.com"} x'), KEY);
    expect(JSON.stringify(outcome)).not.toContain('alice');
  });

  it('never throws on garbage', () => {
    let seed = 5;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const alphabet = 'ab_:{}="\\n, \t#\n0123456789.e+-NaInf\r';
    for (let n = 0; n < 3000; n++) {
      const text = Array.from({ length: Math.floor(random() * 60) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      const outcome = decoder.decode(Buffer.from(text), KEY);
      if (!outcome.ok) expect(outcome.detail).toMatch(/^prometheus_text line \d+: /);
    }
  });
});

describe('prometheus_text codec: as Prometheus reads it', () => {
  const decode = (text: string) => records(build({ grouping_key: { from: 'none' } }).decode(Buffer.from(text), KEY)) as PrometheusSampleRecord[];

  it('takes gauge histograms (both spellings), HELP / TYPE lines without text, and \\" in HELP', () => {
    const samples = decode(
      [
        '# HELP q',
        '# HELP q Queue depth \\"now\\".',
        '# TYPE q',
        '# TYPE q gauge_histogram',
        'q_bucket{le="10"} 3',
        'q_bucket{le="+Inf"} 4',
        'q_count 4',
        '# TYPE r GaugeHistogram',
        'r_sum 2.5',
      ].join('\n'),
    );
    expect(samples.map((s) => [s.name, s.family, s.type, s.labels.le])).toEqual([
      ['q_bucket', 'q', 'gaugehistogram', '10'],
      ['q_bucket', 'q', 'gaugehistogram', '+Inf'],
      ['q_count', 'q', 'gaugehistogram', undefined],
      ['r_sum', 'r', 'gaugehistogram', undefined],
    ]);
  });

  it('writes a histogram le and a summary quantile as Prometheus does ("1" → "1.0"), other labels as sent', () => {
    const samples = decode(
      [
        '# TYPE h histogram',
        ...['1', '.5', '1e3', '1e6', '0.000012', '100000', '-0', '+inf', '2.50'].map((le, n) => `h_bucket{le="${le}",n="${n}"} ${n}`),
        '# TYPE s summary',
        's{quantile="0"} 1',
        's{quantile=".99"} 2',
        'untyped_bucket{le="1"} 3',
      ].join('\n'),
    );
    expect(samples.map((s) => s.labels.le ?? s.labels.quantile)).toEqual(['1.0', '0.5', '1000.0', '1e+06', '1.2e-05', '100000.0', '0.0', '+Inf', '2.5', '0.0', '0.99', '1']);
  });

  it('refuses two spellings of one bucket as a duplicate series, as Prometheus would see one series', () => {
    expect(build().decode(Buffer.from('# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="1.0"} 1\n'), KEY)).toEqual(
      rejected('prometheus_text line 3: duplicate sample: h_bucket with the same labels as on line 2'),
    );
  });

  it('keeps NaN and ±Inf sample values and negative values outside histogram buckets and counts', () => {
    const samples = decode('# TYPE h histogram\nh_sum -2\nh_count NaN\ng -Inf\n# TYPE s summary\ns_count -1');
    expect(samples.map((s) => s.value)).toEqual([-2, Number.NaN, Number.NEGATIVE_INFINITY, -1]);
  });
});

describe('prometheus_text codec: grouping keys are bounded by max_message_bytes', () => {
  const small = (config: Record<string, unknown> = {}) =>
    createPrometheusTextDecoder(prometheusTextDecodeConfigSchema.parse({ codec: 'prometheus_text', ...config }), { baseDir: '.', maxMessageBytes: 200 });

  it('refuses a message key longer than max_message_bytes, as oversized', () => {
    const key = `job/batch/${Array.from({ length: 40 }, (_, n) => `l${n}/v`).join('/')}`;
    expect(key.length).toBeGreaterThan(200);
    expect(small().decode(Buffer.from('up 1\n'), context(key))).toEqual({ ok: false, reason: 'oversized', detail: `prometheus_text: grouping key: the message key has ${key.length} bytes > 200 (source.max_message_bytes)` });
  });

  it('refuses grouping headers longer than max_message_bytes together, as oversized', () => {
    const headers = { 'grouping.job': 'batch', 'grouping.a': 'x'.repeat(120), 'grouping.b': 'y'.repeat(120) };
    expect(small({ grouping_key: { from: 'headers' } }).decode(Buffer.from('up 1\n'), context(null, headers))).toEqual({
      ok: false,
      reason: 'oversized',
      detail: 'prometheus_text: grouping key: the grouping headers have more than 200 characters (source.max_message_bytes)',
    });
  });

  it('refuses a message whose grouping labels, applied to every sample, would add more than max_message_bytes', () => {
    // job=batch is 8 characters a sample: 25 samples fit in 200, the 26th does not.
    const lines = (n: number) => Array.from({ length: n }, (_, k) => `m{k="${k}"} 1`).join('\n');
    expect(records(small().decode(Buffer.from(lines(25)), KEY))).toHaveLength(25);
    expect(small().decode(Buffer.from(lines(26)), KEY)).toEqual({
      ok: false,
      reason: 'oversized',
      detail: "prometheus_text line 26: the grouping key's 1 labels on every sample add more than 200 characters (source.max_message_bytes); send fewer samples per message or a shorter key",
    });
  });

  it('refuses lone surrogates in grouping headers given as strings', () => {
    expect(build({ grouping_key: { from: 'headers' } }).decode(Buffer.from('up 1\n'), context(null, { 'grouping.job': 'a\ud800' }))).toEqual(
      rejected('prometheus_text: grouping key: header "grouping.job" is not UTF-8'),
    );
  });
});

describe('prometheus_text codec: the grouping key', () => {
  const payload = Buffer.from('up{job="batch"} 1\n');

  it('applies the Pushgateway push path from the message key (URL-decoded, @base64 values)', () => {
    const [sample] = records(build().decode(Buffer.from('up 1'), context('/metrics/job/batch/path@base64/L3Zhci90bXA/first@base64/=/name/%CE%A0%CF%81')));
    expect(sample!.labels).toStrictEqual({ job: 'batch', path: '/var/tmp', first: '', name: 'Πρ' });
  });

  it.each([
    [null, 'the message has no key (expected job/<job>{/<label>/<value>})'],
    ['job', '1 path segments; expected job/<job> followed by <label>/<value> pairs'],
    ['instance/x/job/y', 'the key must start with job/<job>'],
    ['job/batch/in-stance/x', 'segment 3 is not a label name'],
    ['job/batch/__meta/x', 'segment 3 is not a label name'],
    ['job/batch/instance/a/instance/b', 'label instance is given twice'],
    ['job/batch/instance/', 'empty value for label instance (write instance@base64/= for an empty value)'],
    ['job@base64/=', 'the job name is empty'],
    ['job/batch/path@base64/L3Zhci*', 'the value of path@base64 is not base64url of UTF-8 text'],
    ['job/batch/name/%E0%A4', 'invalid percent-encoding in the value of label name'],
  ])('rejects key %j: %s', (key, detail) => {
    expect(build().decode(payload, context(key))).toEqual(rejected(`prometheus_text: grouping key: ${detail}`));
  });

  it('rejects a sample label that contradicts the grouping key, or overrides it when configured', () => {
    const payloadWithJob = Buffer.from('up 1\nup{job="other",x="1"} 1\n');
    expect(build().decode(payloadWithJob, KEY)).toEqual(rejected("prometheus_text line 2: label job of up differs from the grouping key's job"));
    const samples = records(build({ on_label_conflict: 'override' }).decode(Buffer.from('up{job="other",x="1"} 1\n'), KEY));
    expect(samples[0]!.labels).toStrictEqual({ job: 'batch', x: '1' });
    // After the override two samples can become one series: that is a duplicate too.
    expect(build({ on_label_conflict: 'override' }).decode(Buffer.from('up{job="a"} 1\nup{job="b"} 2\n'), KEY)).toEqual(
      rejected('prometheus_text line 2: duplicate sample: up with the same labels as on line 1'),
    );
  });

  it('reads grouping labels from prefixed headers; job is required; repeated headers are ambiguous', () => {
    const decoder = build({ grouping_key: { from: 'headers', header_prefix: 'pg-' } });
    expect(records(decoder.decode(payload, context(null, { 'pg-instance': 'n1', 'pg-job': 'batch' })))[0]!.labels).toStrictEqual({ job: 'batch', instance: 'n1' });
    expect(decoder.decode(payload, context(null, { 'pg-instance': 'n1' }))).toEqual(rejected('prometheus_text: grouping key: header pg-job is missing'));
    expect(decoder.decode(payload, context(null, { 'pg-job': ['a', 'b'] }))).toEqual(rejected('prometheus_text: grouping key: header "pg-job" is given 2 times'));
    expect(decoder.decode(payload, context(null, { 'pg-job': 'batch', 'pg-bad-name': 'x' }))).toEqual(rejected('prometheus_text: grouping key: header "pg-bad-name" does not name a valid label'));
  });

  it('rejects a push-time header that is not integer milliseconds', () => {
    expect(build({ timestamp_header: 'push_time_ms' }).decode(payload, context('job/batch', { push_time_ms: '2026-01-01T00:00:00Z' }))).toEqual(
      rejected('prometheus_text: header "push_time_ms" is not an integer number of epoch milliseconds'),
    );
  });

  it('has Pushgateway defaults: grouping key from the message key, conflicts rejected', () => {
    expect(prometheusTextDecodeConfigSchema.parse({ codec: 'prometheus_text' })).toEqual({ codec: 'prometheus_text', grouping_key: { from: 'key' }, on_label_conflict: 'reject' });
    expect(prometheusTextDecodeConfigSchema.parse({ codec: 'prometheus_text', grouping_key: { from: 'headers' } }).grouping_key).toEqual({ from: 'headers', header_prefix: 'grouping.' });
    expect(prometheusTextDecodeConfigSchema.safeParse({ codec: 'prometheus_text', grouping_key: { from: 'key', header_prefix: 'x' } }).success).toBe(false);
  });
});
