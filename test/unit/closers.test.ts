import { describe, expect, it } from 'vitest';
import { Closers } from '../../src/core/closers.ts';

describe('Closers', () => {
  it('closes everything registered, reports each failure, and waits for all', async () => {
    const errors: unknown[] = [];
    const closers = new Closers((error) => errors.push(error));
    const closed: string[] = [];
    closers.push(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      closed.push('slow');
    });
    closers.push(async () => {
      throw new Error('admin disconnect failed');
    });
    closers.push(async () => {
      closed.push('fast');
    });
    await closers.closeAll();
    expect(closed.sort()).toEqual(['fast', 'slow']);
    expect(errors.map((e) => (e as Error).message)).toEqual(['admin disconnect failed']);
    expect(closers.isClosed).toBe(true);
  });

  it('closes a resource registered after closeAll() at once', async () => {
    const errors: unknown[] = [];
    const closers = new Closers((error) => errors.push(error));
    await closers.closeAll();
    let closed = false;
    closers.push(async () => {
      closed = true;
    });
    closers.push(async () => {
      throw new Error('late producer failed to disconnect');
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(true);
    expect(errors).toHaveLength(1);
  });

  it('closes each resource once', async () => {
    const closers = new Closers(() => {});
    let count = 0;
    closers.push(async () => {
      count++;
    });
    await closers.closeAll();
    await closers.closeAll();
    expect(count).toBe(1);
  });
});
