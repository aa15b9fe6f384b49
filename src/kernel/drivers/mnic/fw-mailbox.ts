/**
 * The driver side of one mnic command entry (spec/mnic-fw.ts; the device side is
 * hw/devices/mnic/cmd-channel.ts): build the input, put what does not fit inline into a chain of DMA
 * mailbox blocks (dma_alloc_coherent), fill the entry by MMIO, set ownership, ring the doorbell, poll
 * ownership, read the output back, and turn a failure into an errno the way mlx5_cmd_check does.
 *
 * Status → errno (our table, after mlx5's cmd_status_to_err): BAD_OP, BAD_PARAM, BAD_RESOURCE,
 * BAD_RES_STATE, BAD_SIZE → EINVAL; RESOURCE_BUSY → EBUSY; NOT_PERMITTED → EPERM; NO_RESOURCES →
 * ENOSPC (SPEC-DEVIATION: mlx5 says EAGAIN; the devlink and creation APIs here promise ENOSPC);
 * INTERNAL_ERR, BAD_SYS_STATE, BAD_INPUT_LEN, BAD_OUTPUT_LEN → EIO. One syndrome overrides: an sfnum
 * already in use → EEXIST (mlx5's SF table says so before asking firmware). A delivery error (bad
 * mailbox, DMA fault) is EIO; an entry firmware never hands back is ETIMEDOUT.
 */
import { encodeStruct, errnoError, readLe, writeLe } from '../../../base/index.js';
import { type ErrnoName, mnicfw } from '../../../spec/index.js';
import type { Device } from '../../driver-core/device.js';
import type { DmaCoherent, IoMem, KernelApi } from '../../kernel-api.js';

const STATUS: ReadonlyMap<number, { name: string; errno: ErrnoName }> = new Map([
  [mnicfw.MNIC_STATUS_INTERNAL_ERR, { name: 'INTERNAL_ERR', errno: 'EIO' }],
  [mnicfw.MNIC_STATUS_BAD_OP, { name: 'BAD_OP', errno: 'EINVAL' }],
  [mnicfw.MNIC_STATUS_BAD_PARAM, { name: 'BAD_PARAM', errno: 'EINVAL' }],
  [mnicfw.MNIC_STATUS_BAD_SYS_STATE, { name: 'BAD_SYS_STATE', errno: 'EIO' }],
  [mnicfw.MNIC_STATUS_BAD_RESOURCE, { name: 'BAD_RESOURCE', errno: 'EINVAL' }],
  [mnicfw.MNIC_STATUS_RESOURCE_BUSY, { name: 'RESOURCE_BUSY', errno: 'EBUSY' }],
  [mnicfw.MNIC_STATUS_NOT_PERMITTED, { name: 'NOT_PERMITTED', errno: 'EPERM' }],
  [mnicfw.MNIC_STATUS_BAD_RES_STATE, { name: 'BAD_RES_STATE', errno: 'EINVAL' }],
  [mnicfw.MNIC_STATUS_NO_RESOURCES, { name: 'NO_RESOURCES', errno: 'ENOSPC' }],
  [mnicfw.MNIC_STATUS_BAD_INPUT_LEN, { name: 'BAD_INPUT_LEN', errno: 'EIO' }],
  [mnicfw.MNIC_STATUS_BAD_OUTPUT_LEN, { name: 'BAD_OUTPUT_LEN', errno: 'EIO' }],
  [mnicfw.MNIC_STATUS_BAD_SIZE, { name: 'BAD_SIZE', errno: 'EINVAL' }],
]);
const SYNDROME_ERRNO: ReadonlyMap<number, ErrnoName> = new Map([
  [mnicfw.MNIC_SYNDROME.SFNUM_IN_USE, 'EEXIST'],
]);
const SYNDROME_NAME = new Map<number, string>(Object.entries(mnicfw.MNIC_SYNDROME).map(([k, v]) => [v, k]));

/** The errno a firmware status (and syndrome) maps to; undefined for OK. */
export function mnicStatusErrno(status: number, syndrome: number): ErrnoName | undefined {
  if (status === mnicfw.MNIC_STATUS_OK) return undefined;
  return SYNDROME_ERRNO.get(syndrome) ?? STATUS.get(status)?.errno ?? 'EIO';
}

const hex = (n: number): string => `0x${n.toString(16)}`;
const D = mnicfw.MNIC_MAILBOX_DATA_BYTES;
const BLOCK = mnicfw.MNIC_MAILBOX_BLOCK_BYTES;
const ENTRY = mnicfw.MNIC_CMD_ENTRY_OFFSET;
const INLINE_IN = ENTRY + 0x20;
const INLINE_OUT = ENTRY + 0x40;

/** One function's command entry, reached through `io` (its window); mailboxes come from `dmaDev`. */
export class MnicMailbox {
  readonly #k: KernelApi;
  readonly #io: IoMem;
  readonly #dmaDev: Device;
  readonly #guard: { depth: number; afterOutermost(): void };
  #token = 0;

  constructor(k: KernelApi, io: IoMem, dmaDev: Device, guard: { depth: number; afterOutermost(): void }) {
    this.#k = k;
    this.#io = io;
    this.#dmaDev = dmaDev;
    this.#guard = guard;
  }

  get io(): IoMem {
    return this.#io;
  }

  /** A DMA buffer of `sizeBytes` for the duration of `use` (state images). */
  withBuffer<T>(sizeBytes: number, use: (buf: DmaCoherent) => T): T {
    const buf = this.#k.dmaAllocCoherent(this.#dmaDev, sizeBytes, BLOCK);
    try {
      return use(buf);
    } finally {
      this.#k.dmaFreeCoherent(this.#dmaDev, buf);
    }
  }

  readRam(buf: DmaCoherent, lengthBytes: number): Uint8Array {
    return this.#k.ram.read(buf.cpuAddr, lengthBytes);
  }

  writeRam(buf: DmaCoherent, bytes: Uint8Array): void {
    this.#k.ram.write(buf.cpuAddr, bytes);
  }

  /** Run one command: `input` starts with the in header; returns the whole output (header first). */
  exec(name: string, input: Uint8Array, outputLength: number): Uint8Array {
    this.#guard.depth++;
    try {
      return this.#exec(name, input, outputLength);
    } finally {
      this.#guard.depth--;
      if (this.#guard.depth === 0) this.#guard.afterOutermost();
    }
  }

  #exec(name: string, input: Uint8Array, outputLength: number): Uint8Array {
    const k = this.#k;
    const io = this.#io;
    this.#token = (this.#token % 255) + 1;
    const token = this.#token;
    const inl = mnicfw.MNIC_CMD_INLINE_IN_BYTES;
    const outl = mnicfw.MNIC_CMD_INLINE_OUT_BYTES;
    const inBlocks = Math.max(0, Math.ceil((input.length - inl) / D));
    const outBlocks = Math.max(0, Math.ceil((outputLength - outl) / D));
    const inBuf = inBlocks > 0 ? this.#chain(inBlocks, token, input.subarray(inl)) : undefined;
    let outBuf: DmaCoherent | undefined;
    try {
      outBuf = outBlocks > 0 ? this.#chain(outBlocks, token, undefined) : undefined;
      io.write(ENTRY + 0x00, 4, input.length);
      io.write(ENTRY + 0x04, 4, outputLength);
      // Firmware reads a mailbox pointer only when the length needs blocks, and only the first
      // inputLength inline bytes: write no more than that (each write is a posted MMIO request).
      if (inBuf !== undefined) io.write64(ENTRY + 0x08, inBuf.iova);
      if (outBuf !== undefined) io.write64(ENTRY + 0x10, outBuf.iova);
      const inlineBytes = Math.min(inl, input.length);
      const inline = new Uint8Array(Math.ceil(inlineBytes / 4) * 4);
      inline.set(input.subarray(0, inlineBytes));
      for (let off = 0; off < inline.length; off += 4) io.write(INLINE_IN + off, 4, readLe(inline, off, 4));
      io.write(ENTRY + 0x18, 4, (token | (mnicfw.MNIC_CMD_CTRL_OWNERSHIP << 24)) >>> 0);
      io.write(mnicfw.MNIC_INIT_CMD_DOORBELL, 4, mnicfw.MNIC_CMD_DOORBELL_POST);
      const ctrl = io.read(ENTRY + 0x18, 4) >>> 24;
      if ((ctrl & mnicfw.MNIC_CMD_CTRL_OWNERSHIP) !== 0) {
        throw errnoError('ETIMEDOUT', `mnic ${name}: firmware did not complete the command`);
      }
      const delivery = ctrl >>> mnicfw.MNIC_CMD_CTRL_STATUS_SHIFT;
      if (delivery !== mnicfw.MNIC_DELIVERY_OK) {
        throw errnoError('EIO', `mnic ${name}: command delivery failed (status ${hex(delivery)})`);
      }
      const out = new Uint8Array(outputLength);
      const inlineOut = Math.min(outl, outputLength);
      const tmp = new Uint8Array(4);
      for (let off = 0; off < inlineOut; off += 4) {
        writeLe(tmp, 0, 4, io.read(INLINE_OUT + off, 4));
        out.set(tmp.subarray(0, Math.min(4, inlineOut - off)), off);
      }
      if (outBuf !== undefined) {
        for (let i = 0, at = outl; at < outputLength; i++, at += D) {
          const n = Math.min(D, outputLength - at);
          out.set(k.ram.read(outBuf.cpuAddr + BigInt(i * BLOCK), n), at);
        }
      }
      const status = out[0]!;
      const syndrome = readLe(out, 4, 4);
      const errno = mnicStatusErrno(status, syndrome);
      if (errno !== undefined) {
        const s = STATUS.get(status)?.name ?? hex(status);
        const why = SYNDROME_NAME.get(syndrome) ?? hex(syndrome);
        throw errnoError(errno, `mnic ${name}: firmware status ${s}, syndrome ${why} (${hex(syndrome)})`);
      }
      return out;
    } finally {
      if (inBuf !== undefined) k.dmaFreeCoherent(this.#dmaDev, inBuf);
      if (outBuf !== undefined) k.dmaFreeCoherent(this.#dmaDev, outBuf);
    }
  }

  /** A chain of `count` blocks in one buffer, trailers filled, data from `data` when given. */
  #chain(count: number, token: number, data: Uint8Array | undefined): DmaCoherent {
    const buf = this.#k.dmaAllocCoherent(this.#dmaDev, count * BLOCK, BLOCK);
    const bytes = new Uint8Array(count * BLOCK);
    for (let i = 0; i < count; i++) {
      if (data !== undefined) bytes.set(data.subarray(i * D, Math.min((i + 1) * D, data.length)), i * BLOCK);
      const next = i + 1 < count ? buf.iova + BigInt((i + 1) * BLOCK) : 0n;
      bytes.set(encodeStruct(mnicfw.MnicMailboxTrailer, { next, blockNum: i, token }), i * BLOCK + D);
    }
    this.#k.ram.write(buf.cpuAddr, bytes);
    return buf;
  }
}
