import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { packState, unpackState } from '../../src/runtime/repartition-codec.ts';
import { packPlain } from '../../src/runtime/state-pack.ts';
import { seededRandom } from '../support/seeded-random.ts';

/** The packer checkpoints were written with: packPlain must give its bytes exactly. */
const msgpackr = new Packr({ useRecords: false });

const numbers = [0, 1, -1, 0x1f, 0x20, -0x20, -0x21, 0x7f, 0x80, -0x80, -0x81, 0xff, 0x100, 0xffff, 0x10000, -0x8000, -0x8001, 0xffffffff, 2 ** 32, -(2 ** 31), -(2 ** 31) - 1, 2 ** 53, 1.5, -0.25, 1e-300, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1_764_547_200_000];
const strings = ['', 'a', 'x'.repeat(31), 'x'.repeat(32), 'x'.repeat(255), 'x'.repeat(256), 'x'.repeat(0xfff0), 'acme\u0000model=gpt-4o'];

/** A value of the shapes series entries have, with random sizes. */
function randomValue(random: () => number, depth: number): unknown {
  const pick = Math.floor(random() * (depth > 3 ? 6 : 7));
  switch (pick) {
    case 0:
      return numbers[Math.floor(random() * numbers.length)];
    case 1:
      return (random() - 0.5) * 10 ** Math.floor(random() * 15);
    case 2:
      return strings[Math.floor(random() * strings.length)];
    case 3:
      return random() < 0.5 ? null : random() < 0.5;
    case 4: {
      const bytes = new Uint8Array([0, 20, 300, 70_000][Math.floor(random() * 4)]!);
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
      return random() < 0.5 ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    case 5:
      return Math.floor(random() * 2 ** 32) - 2 ** 31;
    default:
      return Array.from({ length: [0, 3, 15, 16, 40][Math.floor(random() * 5)]! }, () => randomValue(random, depth + 1));
  }
}

describe('packPlain', () => {
  it('gives msgpackr’s bytes for numbers, strings, null, booleans, byte arrays and arrays of them', () => {
    for (const value of [...numbers, ...strings, null, true, false, [], [numbers, strings.filter((s) => s.length < 1_000)], new Uint8Array(0)]) {
      expect(Buffer.from(packPlain(value)!)).toEqual(Buffer.from(msgpackr.pack(value)));
    }
    const random = seededRandom(7);
    let packedHere = 0;
    for (let i = 0; i < 600; i++) {
      const value = randomValue(random, 0);
      const plain = packPlain(value);
      if (plain === undefined) continue;
      packedHere++;
      // (equals, not toEqual: a deep comparison of 64 KiB buffers byte by byte took seconds.)
      expect(plain.equals(msgpackr.pack(value)), `value ${i}`).toBe(true);
    }
    // Only values past a chunk (64 KiB) are left to msgpackr.
    expect(packedHere).toBeGreaterThan(450);
  });

  it('leaves objects, undefined, non-ASCII strings and other typed arrays to msgpackr, and packState packs them as before', () => {
    for (const value of [{ a: 1 }, [1, undefined], 'naïve', ['ok', '日本'], new Map(), 10n]) {
      expect(packPlain(value)).toBeUndefined();
      expect(Buffer.from(packState(value))).toEqual(Buffer.from(msgpackr.pack(value)));
    }
    // (msgpackr copies a Float64Array's values, not its bytes, into uninitialised room: no bytes to compare.)
    expect(packPlain(new Float64Array(2))).toBeUndefined();
  });

  it('packs a series entry that unpacks to itself, and packs stay intact as later ones fill the chunk', () => {
    const log = new Float64Array([3, 0.25, 1_764_547_200_000]);
    const entry = [0, 'acme\u0000m1', 'acme', ['m1', null], 1_764_547_210_000, [12, [0, 1, 2.5], null], 7, [null, [new Uint8Array(log.buffer), 4, 2]], [1_764_547_200_000, null]];
    const first = packState(entry);
    const copy = Buffer.from(first);
    for (let i = 0; i < 200; i++) packState([i, 'x'.repeat(1_000)]);
    expect(Buffer.from(first)).toEqual(copy);
    const back = unpackState<unknown[]>(first);
    expect(back.slice(0, 7)).toEqual(entry.slice(0, 7));
    expect(new Float64Array(new Uint8Array((back[7] as [null, [Uint8Array]])[1][0]).buffer)).toEqual(log);
  });
});
