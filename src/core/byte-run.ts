/**
 * The first `length` bytes of `bytes`, which the checkpoint's msgpack writer
 * (runtime/state-pack.ts) packs exactly as a Uint8Array of them (a msgpack bin), without a view
 * made per pack: a stateful kind keeps one over a log it appends to and sets `length` at each
 * checkpoint (anomaly's replay log: a series entry per series and window). The writer copies all
 * of `bytes` (one memcpy of a fixed size; past the pack's end the next pack writes over it) and
 * moves on by `length`.
 */
export class ByteRun {
  length = 0;

  constructor(readonly bytes: Uint8Array) {}
}
