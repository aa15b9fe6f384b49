/** The saving fd's byte queue: records split across reads in order, counts kept. */
import { describe, expect, it } from 'vitest';
import { ChunkQueue } from '../../src/kernel/vfio/migration/index.js';

describe('ChunkQueue', () => {
  it('hands out records in order, split at any read size, and counts what was read', () => {
    const q = new ChunkQueue();
    q.push(Uint8Array.of(1, 2, 3));
    q.push(Uint8Array.of(4, 5));
    expect(q.pendingBytes).toBe(5);
    expect([...q.take(2)]).toEqual([1, 2]);
    expect([...q.take(10)]).toEqual([3]);
    expect([...q.take(10)]).toEqual([4, 5]);
    expect(q.isEmpty).toBe(true);
    expect(q.take(4)).toHaveLength(0);
    expect(q.readBytes).toBe(5);
  });

  it('clear drops what is queued without counting it as read', () => {
    const q = new ChunkQueue();
    q.push(Uint8Array.of(9, 9));
    q.clear();
    expect(q.isEmpty).toBe(true);
    expect(q.readBytes).toBe(0);
  });
});
