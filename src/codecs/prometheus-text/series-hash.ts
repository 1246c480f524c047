import { randomBytes } from 'node:crypto';

/**
 * FNV-1a over UTF-16 code units, with an offset basis drawn once per process. The parser finds
 * duplicate series through these hashes and confirms with a full comparison, so a collision
 * costs a comparison, never a wrong answer; the random basis keeps a sender from precomputing
 * thousands of colliding label sets that would make every sample compare with every other.
 */
export const FNV_PRIME = 0x01000193;
export const HASH_START = (0x811c9dc5 ^ randomBytes(4).readInt32LE(0)) | 0;

export function seededHash(text: string, start: number, end: number): number {
  let hash = HASH_START;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ text.charCodeAt(i), FNV_PRIME);
  return hash;
}

/** Mixes a name hash and a value hash into one pair hash (murmur3's finalizer), so sums spread well. */
export function pairHash(nameHash: number, valueHash: number): number {
  let h = nameHash ^ Math.imul(valueHash, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}
