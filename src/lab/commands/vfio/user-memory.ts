/** The `vfio` tool process's memory for user pointers in ioctl payloads (DMA logging ranges and bitmaps). */
import { errnoError } from '../../../base/index.js';
import type { Hpa } from '../../../hw/index.js';
import type { UserMemory } from '../../../kernel/index.js';
import { hexN } from './format.js';

/** The tool process's memory for user pointers in ioctl payloads: one flat buffer at a fixed address. */
export class ScratchUserMemory implements UserMemory {
  readonly baseVa = 0x7f00_0000_0000n;
  readonly bytes: Uint8Array;
  constructor(sizeBytes = 4 << 20) {
    this.bytes = new Uint8Array(sizeBytes);
  }
  #at(userVa: bigint, lengthBytes: number): number {
    const off = userVa - this.baseVa;
    if (off < 0n || off + BigInt(lengthBytes) > BigInt(this.bytes.length))
      throw errnoError('EFAULT', `user range ${hexN(userVa)}+${hexN(lengthBytes)}`);
    return Number(off);
  }
  read(userVa: bigint, lengthBytes: number): Uint8Array {
    const at = this.#at(userVa, lengthBytes);
    return this.bytes.slice(at, at + lengthBytes);
  }
  write(userVa: bigint, bytes: Uint8Array): void {
    this.bytes.set(bytes, this.#at(userVa, bytes.length));
  }
  pin(userVa: bigint, lengthBytes: bigint): Hpa {
    throw errnoError('EFAULT', `the vfio tool does not pin ${hexN(userVa)}+${hexN(lengthBytes)}`);
  }
}
