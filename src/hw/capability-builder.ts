/**
 * Lays out a function's capability lists: the standard list from 0x40 (Capabilities Pointer at 0x34,
 * each entry `{u8 id; u8 next}`) and the extended list from 0x100 (32-bit header: id, version, next).
 * The builder assigns every next pointer; capability code only fills its own body.
 */
import { LabError } from '../base/index.js';
import { pci } from '../spec/index.js';
import type { ConfigSpace } from './config-space.js';

export interface Capability {
  readonly id: number;
  readonly sizeBytes: number;
  /** Fill the body (after the 2-byte header) and install masks and hooks; `offset` is the cap start. */
  init(cs: ConfigSpace, offset: number): void;
}

export interface ExtCapability {
  readonly id: number;
  readonly version: number;
  readonly sizeBytes: number;
  init(cs: ConfigSpace, offset: number): void;
}

/** Where each capability landed, by id (first instance) and in order. */
export interface CapabilityMap {
  readonly standard: ReadonlyArray<{ readonly id: number; readonly offset: number }>;
  readonly extended: ReadonlyArray<{ readonly id: number; readonly offset: number }>;
}

const FIRST_STANDARD_OFFSET = 0x40;
const align4 = (n: number): number => (n + 3) & ~3;

export function buildCapabilities(
  cs: ConfigSpace,
  standard: readonly Capability[],
  extended: readonly ExtCapability[],
): CapabilityMap {
  const placedStd: { id: number; offset: number }[] = [];
  let at = FIRST_STANDARD_OFFSET;
  for (const cap of standard) {
    if (at + cap.sizeBytes > pci.PCI_CFG_SPACE_SIZE) {
      throw new LabError(
        'internal',
        `standard capabilities overflow 256 bytes at cap 0x${cap.id.toString(16)}`,
      );
    }
    placedStd.push({ id: cap.id, offset: at });
    at = align4(at + cap.sizeBytes);
  }
  placedStd.forEach((p, i) => {
    const next = placedStd[i + 1]?.offset ?? 0;
    cs.set(p.offset + pci.PCI_CAP_LIST_ID, 1, p.id);
    cs.set(p.offset + pci.PCI_CAP_LIST_NEXT, 1, next);
    standard[i]!.init(cs, p.offset);
  });
  if (placedStd.length > 0) {
    cs.set(pci.PCI_CAPABILITY_LIST, 1, placedStd[0]!.offset);
    cs.setBits(pci.PCI_STATUS, 2, pci.PCI_STATUS_CAP_LIST, true);
  }

  const placedExt: { id: number; offset: number }[] = [];
  at = pci.PCI_EXT_CAP_START;
  for (const cap of extended) {
    if (cs.size < pci.PCI_CFG_SPACE_EXP_SIZE || at + cap.sizeBytes > cs.size) {
      throw new LabError('internal', `extended capability 0x${cap.id.toString(16)} does not fit`);
    }
    placedExt.push({ id: cap.id, offset: at });
    at = align4(at + cap.sizeBytes);
  }
  placedExt.forEach((p, i) => {
    const cap = extended[i]!;
    const next = placedExt[i + 1]?.offset ?? 0;
    cs.set(
      p.offset,
      4,
      ((next << pci.PCI_EXT_CAP_NEXT_SHIFT) | (cap.version << pci.PCI_EXT_CAP_VER_SHIFT) | cap.id) >>> 0,
    );
    cap.init(cs, p.offset);
  });
  return { standard: placedStd, extended: placedExt };
}

/** Find a standard capability by walking the list from the Capabilities Pointer, as software does. */
export function findCapability(cs: ConfigSpace, id: number): number | undefined {
  if ((cs.get(pci.PCI_STATUS, 2) & pci.PCI_STATUS_CAP_LIST) === 0) return undefined;
  let at = cs.get(pci.PCI_CAPABILITY_LIST, 1) & ~3;
  for (let hops = 0; at >= FIRST_STANDARD_OFFSET && hops < 48; hops++) {
    if (cs.get(at, 1) === id) return at;
    at = cs.get(at + 1, 1) & ~3;
  }
  return undefined;
}

/** Find an extended capability by walking the list from 0x100. */
export function findExtCapability(cs: ConfigSpace, id: number): number | undefined {
  if (cs.size < pci.PCI_CFG_SPACE_EXP_SIZE) return undefined;
  let at = pci.PCI_EXT_CAP_START;
  for (let hops = 0; at >= pci.PCI_EXT_CAP_START && hops < 480; hops++) {
    const header = cs.get(at, 4);
    if (header === 0) return undefined;
    if ((header & pci.PCI_EXT_CAP_ID_MASK) === id) return at;
    at = (header >>> pci.PCI_EXT_CAP_NEXT_SHIFT) & 0xffc;
  }
  return undefined;
}
