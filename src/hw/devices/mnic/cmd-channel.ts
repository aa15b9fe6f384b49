/**
 * The command channel of one function window: the 96-byte command entry (spec/mnic-fw.ts
 * MnicCmdEntry) and the doorbell. Posting a command (after mlx5's command queue, here one entry in
 * MMIO): the driver fills the entry, sets the ownership bit, writes the doorbell; firmware gathers the
 * input (inline bytes, then the data of the input mailbox chain by DMA), checks the output mailbox
 * chain, runs the command, scatters the output (inline, then the output chain by DMA), and clears
 * ownership with a delivery status. A doorbell without ownership is ignored, as hardware would.
 *
 * Delivery checks, in order: lengths (8..MAX_*), then each mailbox block: 64-byte aligned, readable
 * by DMA, block number = its position, token = the entry's token. A delivery error runs no command.
 * Left out: signatures over entries and blocks, more than one entry, completion by interrupt (the
 * driver polls ownership; the command completes before the doorbell write returns).
 */
import { decodeStruct, offsetOf, readLe } from '../../../base/index.js';
import { mnicfw } from '../../../spec/index.js';
import type { DmaPort } from '../../dma/index.js';
import type { Iova } from '../../iommu/index.js';

/** Input: header + count + one le32 per SIOV function; output: header + 16 bytes per function. */
export const MNIC_MAX_INPUT_BYTES = 1 << 20;
export const MNIC_MAX_OUTPUT_BYTES = 2 << 20;

const D = mnicfw.MNIC_MAILBOX_DATA_BYTES;
const CTRL = offsetOf(mnicfw.MnicCmdEntry, 'ctrl');
const INLINE_OUT = offsetOf(mnicfw.MnicCmdEntry, 'inlineOutput');

export type RunCommand = (input: Uint8Array, outputLength: number) => Uint8Array;
export type DoorbellResult = 'idle' | 'refused' | 'ran';

type Chain = { ok: true; blocks: bigint[]; data: Uint8Array[] } | { ok: false; delivery: number };

/** Walk `count` blocks from `first`, checking each trailer; `withData` also returns their data. */
function walkChain(
  port: DmaPort | undefined,
  first: bigint,
  count: number,
  token: number,
  withData: boolean,
): Chain {
  const blocks: bigint[] = [];
  const data: Uint8Array[] = [];
  let at = first;
  for (let i = 0; i < count; i++) {
    if (at % BigInt(mnicfw.MNIC_MAILBOX_ALIGN_BYTES) !== 0n || at === 0n) {
      return { ok: false, delivery: mnicfw.MNIC_DELIVERY_PTR_NOT_ALIGNED };
    }
    const r = withData
      ? port?.read(at as Iova, mnicfw.MNIC_MAILBOX_BLOCK_BYTES)
      : port?.read((at + BigInt(D)) as Iova, mnicfw.MnicMailboxTrailer.sizeBytes);
    if (r === undefined || !r.ok) return { ok: false, delivery: mnicfw.MNIC_DELIVERY_DMA_FAULT };
    const t = decodeStruct(mnicfw.MnicMailboxTrailer, withData ? r.bytes.subarray(D) : r.bytes);
    if (t.blockNum !== i) return { ok: false, delivery: mnicfw.MNIC_DELIVERY_BAD_BLOCK_NUM };
    if (t.token !== token) return { ok: false, delivery: mnicfw.MNIC_DELIVERY_BAD_TOKEN };
    blocks.push(at);
    if (withData) data.push(r.bytes.subarray(0, D));
    at = t.next;
  }
  return { ok: true, blocks, data };
}

const blocksFor = (length: number, inline: number): number => Math.max(0, Math.ceil((length - inline) / D));

/**
 * Process a doorbell on `entry` (the function's command entry bytes). `port` is the DMA path of the
 * issuing function's mailboxes (undefined: it cannot master DMA now). Says whether the entry was
 * idle (not owned by firmware: nothing happens), refused at delivery, or run.
 */
export function ringDoorbell(entry: Uint8Array, port: DmaPort | undefined, run: RunCommand): DoorbellResult {
  if ((entry[CTRL]! & mnicfw.MNIC_CMD_CTRL_OWNERSHIP) === 0) return 'idle';
  const e = decodeStruct(mnicfw.MnicCmdEntry, entry);
  const finish = (delivery: number): DoorbellResult => {
    entry[CTRL] = (delivery << mnicfw.MNIC_CMD_CTRL_STATUS_SHIFT) & 0xfe;
    return delivery === mnicfw.MNIC_DELIVERY_OK ? 'ran' : 'refused';
  };
  if (e.inputLength < mnicfw.MnicCmdInHdr.sizeBytes || e.inputLength > MNIC_MAX_INPUT_BYTES) {
    return finish(mnicfw.MNIC_DELIVERY_IN_LENGTH);
  }
  if (e.outputLength < mnicfw.MnicCmdOutHdr.sizeBytes || e.outputLength > MNIC_MAX_OUTPUT_BYTES) {
    return finish(mnicfw.MNIC_DELIVERY_OUT_LENGTH);
  }
  const inl = mnicfw.MNIC_CMD_INLINE_IN_BYTES;
  const input = new Uint8Array(e.inputLength);
  input.set(e.inlineInput.subarray(0, Math.min(inl, e.inputLength)));
  const inChain = walkChain(port, e.inMailbox, blocksFor(e.inputLength, inl), e.token, true);
  if (!inChain.ok) return finish(inChain.delivery);
  inChain.data.forEach((d, i) => {
    const at = inl + i * D;
    input.set(d.subarray(0, Math.min(D, e.inputLength - at)), at);
  });
  const outl = mnicfw.MNIC_CMD_INLINE_OUT_BYTES;
  const outChain = walkChain(port, e.outMailbox, blocksFor(e.outputLength, outl), e.token, false);
  if (!outChain.ok) return finish(outChain.delivery);

  const output = run(input, e.outputLength);
  const inlineOut = new Uint8Array(outl);
  inlineOut.set(output.subarray(0, outl));
  entry.set(inlineOut, INLINE_OUT);
  for (let i = 0, at = outl; at < output.length; i++, at += D) {
    const w = port?.write(outChain.blocks[i]! as Iova, output.subarray(at, Math.min(at + D, output.length)));
    if (w === undefined || !w.ok) return finish(mnicfw.MNIC_DELIVERY_DMA_FAULT);
  }
  return finish(mnicfw.MNIC_DELIVERY_OK);
}

/** The command opcode in an entry's inline input (for traces and costs). */
export function entryOpcode(entry: Uint8Array): number {
  const inlineIn = offsetOf(mnicfw.MnicCmdEntry, 'inlineInput');
  return readLe(entry, inlineIn, 2);
}
