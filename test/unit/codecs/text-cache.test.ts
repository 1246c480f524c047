import { describe, expect, it } from 'vitest';
import { MAX_CACHED_LENGTH, TextCache } from '../../../src/codecs/json/text-cache.ts';
import { seededRandom } from '../../support/seeded-random.ts';

describe('TextCache', () => {
  // Whether a string is the cached object is not observable from JavaScript (strings compare by
  // value, even under Object.is); what it saves is measured by ingest-bench. Tested here: the text.
  it('gives the text of every range, a repeated one included', () => {
    const cache = new TextCache();
    const bytes = Buffer.from('{"model":"qwen-plus","api":"chat.completions","again":"qwen-plus"}');
    const at = (text: string, from = 0) => [bytes.indexOf(text, from), bytes.indexOf(text, from) + text.length] as const;
    const first = cache.get(bytes, ...at('qwen-plus'));
    expect(first).toBe('qwen-plus');
    expect(cache.get(bytes, ...at('qwen-plus', 20))).toBe(first);
    expect(cache.get(bytes, ...at('chat.completions'))).toBe('chat.completions');
    // Kept for the next time (a cache that made every string anew would pass the lines above).
    expect((cache as unknown as { slots: unknown[] }).slots.filter((text) => text !== undefined).sort()).toEqual(['chat.completions', 'qwen-plus']);
    expect(cache.get(bytes, 0, 0)).toBe('');
  });

  it('stays exact when texts share a slot', () => {
    const random = seededRandom(5);
    const cache = new TextCache();
    const texts = Array.from({ length: 5_000 }, () => Array.from({ length: 1 + Math.floor(random() * 12) }, () => String.fromCharCode(0x21 + Math.floor(random() * 94))).join(''));
    const wrong: string[] = [];
    for (let round = 0; round < 3; round++) {
      for (const text of texts) {
        const bytes = Buffer.from(`"${text}"`, 'latin1');
        if (cache.get(bytes, 1, bytes.length - 1) !== text) wrong.push(text);
      }
    }
    expect(wrong).toEqual([]);
    // They did share slots: fewer strings are held than the distinct texts asked for.
    const held = (cache as unknown as { slots: unknown[] }).slots.filter((text) => text !== undefined).length;
    expect(held).toBeLessThan(new Set(texts).size);
  });

  it('keeps no long text, whatever comes: a flood of distinct long values holds no memory', () => {
    const cache = new TextCache();
    const long = Buffer.from(`"${'x'.repeat(10_000)}"`);
    for (let i = 0; i < 2_000; i++) {
      long.write(String(i).padStart(6, '0'), 1, 'latin1');
      expect(cache.get(long, 1, long.length - 1)).toHaveLength(10_000);
    }
    const slots = (cache as unknown as { slots: (string | undefined)[] }).slots;
    expect(Math.max(...slots.map((text) => text?.length ?? 0))).toBeLessThanOrEqual(MAX_CACHED_LENGTH);
  });
});
