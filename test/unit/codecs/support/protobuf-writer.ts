import protobuf from 'protobufjs/minimal.js';

/** Hand-built protobuf, for the OTLP shapes no SDK writes (wrong wire types, merges, hostile sizes). */
export type Writer = protobuf.Writer;
export const LEN = 2;

export const message = (build: (w: Writer) => void): Uint8Array => {
  const w = protobuf.Writer.create();
  build(w);
  return w.finish();
};
export const embed = (w: Writer, field: number, body: Uint8Array): Writer => w.uint32((field << 3) | LEN).bytes(body);
export const text = (w: Writer, field: number, value: string): Writer => w.uint32((field << 3) | LEN).string(value);
