import { describe, expect, it } from 'vitest';
import { EMPTY_CONTEXT, type DecodeOutcome } from '../../../src/codecs/decoder.ts';
import { createOtlpJsonDecoder, otlpJsonDecodeConfigSchema } from '../../../src/codecs/otlp-json/index.ts';
import { createOtlpProtoDecoder } from '../../../src/codecs/otlp-proto/index.ts';
import { otlpProtoDecodeConfigSchema } from '../../../src/codecs/otlp-proto/config.ts';
import { otlpJsonToProto } from '../../../src/testing/otlp-json-to-proto.ts';
import { readFixture } from '../codecs/support/golden.ts';

const jsonDecoder = createOtlpJsonDecoder(otlpJsonDecodeConfigSchema.parse({ codec: 'otlp_json' }), { baseDir: '.' });
const protoDecoder = createOtlpProtoDecoder(otlpProtoDecodeConfigSchema.parse({ codec: 'otlp_proto' }), { baseDir: '.' });
const records = (outcome: DecodeOutcome) => {
  if (!outcome.ok) throw new Error(`rejected: ${outcome.detail}`);
  return outcome.records;
};

describe('otlpJsonToProto (sluice test inputs for otlp_proto pipelines)', () => {
  it('encodes the Collector\'s OTLP/JSON into protobuf that decodes to the same span records', () => {
    const json = readFixture('otlp/genai-spans.collector.json');
    const fromProto = records(protoDecoder.decode(otlpJsonToProto(JSON.parse(json.toString('utf8')) as Record<string, unknown>), EMPTY_CONTEXT));
    const fromJson = records(jsonDecoder.decode(json, EMPTY_CONTEXT));
    expect(fromProto.length).toBeGreaterThan(0);
    expect(fromProto).toStrictEqual(fromJson);
  });

  it('decodes like the real protobuf fixture (same spans the SDK encoded)', () => {
    const json = JSON.parse(readFixture('otlp/genai-spans.collector.json').toString('utf8')) as Record<string, unknown>;
    const ours = records(protoDecoder.decode(otlpJsonToProto(json), EMPTY_CONTEXT));
    const real = records(protoDecoder.decode(readFixture('otlp/genai-spans.pb'), EMPTY_CONTEXT));
    expect(ours).toStrictEqual(real);
  });

  it('keeps nanosecond times beyond 2^53 and negative integers exact', () => {
    const request = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'tenant.id', value: { stringValue: 'acme' } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId: '0102030405060708090a0b0c0d0e0f10',
                  spanId: '0102030405060708',
                  name: 's',
                  startTimeUnixNano: '1796083201000000001',
                  endTimeUnixNano: '1796083202500000999',
                  attributes: [{ key: 'n', value: { intValue: '-5' } }, { key: 'b', value: { boolValue: false } }],
                },
              ],
            },
          ],
        },
      ],
    };
    const viaProto = records(protoDecoder.decode(otlpJsonToProto(request), EMPTY_CONTEXT));
    const viaJson = records(jsonDecoder.decode(Buffer.from(JSON.stringify(request)), EMPTY_CONTEXT));
    expect(viaProto).toStrictEqual(viaJson);
    expect(viaProto[0]).toMatchObject({ attributes: { n: -5, b: false } });
  });
});
