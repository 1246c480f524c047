import murmurhash from 'murmurhash';

/**
 * HyperLogLog (Flajolet et al. 2007) with the small-range (linear counting) correction, over
 * 32-bit MurmurHash3. Written here because the npm HyperLogLogs either are unmaintained or do
 * not expose their registers for exact, order-independent merging and compact checkpoints.
 * Standard error is 1.04 / sqrt(2^p); merging is a register-wise max, so partials from any
 * number of partitions merge to exactly the sketch one pass over all records would build.
 */
export class HyperLogLog {
  readonly registers: Uint8Array;

  constructor(
    readonly precision: number,
    registers?: Uint8Array,
  ) {
    this.registers = registers ?? new Uint8Array(1 << precision);
  }

  add(value: string): void {
    const hash = murmurhash.v3(value, 0x5eed) >>> 0;
    const index = hash >>> (32 - this.precision);
    // Rank of the first 1-bit in the remaining bits (1-based); all-zero gets the maximum.
    const rest = (hash << this.precision) >>> 0;
    const rank = rest === 0 ? 32 - this.precision + 1 : Math.clz32(rest) + 1;
    if (rank > this.registers[index]!) this.registers[index] = rank;
  }

  merge(other: HyperLogLog): void {
    const mine = this.registers;
    const theirs = other.registers;
    for (let i = 0; i < mine.length; i++) if (theirs[i]! > mine[i]!) mine[i] = theirs[i]!;
  }

  estimate(): number {
    const m = this.registers.length;
    let sum = 0;
    let zeros = 0;
    for (let i = 0; i < m; i++) {
      const r = this.registers[i]!;
      sum += 2 ** -r;
      if (r === 0) zeros++;
    }
    const alpha = m === 16 ? 0.673 : m === 32 ? 0.697 : m === 64 ? 0.709 : 0.7213 / (1 + 1.079 / m);
    const raw = (alpha * m * m) / sum;
    // Small range: linear counting is far more accurate while registers are still empty.
    if (raw <= 2.5 * m && zeros > 0) return m * Math.log(m / zeros);
    return raw;
  }
}
