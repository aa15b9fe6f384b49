/**
 * The bytes a saving data fd hands out: whole records queued by a driver, read() in pieces of any size
 * (a record may be split across reads, never reordered). Drivers' SavingSource implementations keep
 * one, so the read rules live in one place.
 */
export class ChunkQueue {
  readonly #chunks: Uint8Array[] = [];
  #readBytes = 0;

  push(chunk: Uint8Array): void {
    if (chunk.length > 0) this.#chunks.push(chunk);
  }

  get isEmpty(): boolean {
    return this.#chunks.length === 0;
  }

  /** Bytes still queued. */
  get pendingBytes(): number {
    let n = 0;
    for (const c of this.#chunks) n += c.length;
    return n;
  }

  /** Bytes handed out so far. */
  get readBytes(): number {
    return this.#readBytes;
  }

  /** Up to `maxBytes` from the head (empty when nothing is queued). */
  take(maxBytes: number): Uint8Array {
    const head = this.#chunks[0];
    if (head === undefined) return new Uint8Array(0);
    const n = Math.min(maxBytes, head.length);
    const out = head.slice(0, n);
    if (n === head.length) this.#chunks.shift();
    else this.#chunks[0] = head.subarray(n);
    this.#readBytes += n;
    return out;
  }

  clear(): void {
    this.#chunks.length = 0;
  }
}
