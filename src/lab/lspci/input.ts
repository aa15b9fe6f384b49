/**
 * The data the lspci clone works on: one function's config space as read, plus what a live Linux system
 * adds from sysfs. A device without `sysfs` is decoded the way pciutils decodes a hex dump (`-F`): every
 * field comes from config space, sizes are unknown.
 *
 * Deliberately left out of the sysfs view: NUMA node, IOMMU group, physical slot, label and device-tree
 * node (lspci prints lines for them when the files exist; vfiolab's modeled hosts do not provide them).
 */
import type { Bdf } from '../../base/index.js';

/** One line of the sysfs `resource` file, as Linux prints it (start, end, flags). Unused: 0/0/0. */
export interface SysfsResource {
  start: bigint;
  end: bigint;
  flags: bigint;
}

/** What a live Linux system adds from sysfs. Absent when decoding a dump (-F). */
export interface LspciSysfs {
  vendor: number;
  device: number;
  subsystemVendor: number;
  subsystemDevice: number;
  /** 24-bit class/subclass/prog-if, as the sysfs `class` file. */
  classCode: number;
  irq: number;
  /**
   * Lines of the sysfs `resource` file: index 0..5 BARs, 6 ROM, 7..12 (IOV) VF BARs 0..5 on a PF.
   * A bridge may carry 4 more lines (13..16: I/O, memory, prefetchable memory, unused window), as Linux
   * prints them after the IOV lines; lspci then shows the kernel's bridge windows.
   */
  resources: SysfsResource[];
  /** "Kernel driver in use". */
  driver?: string;
  /** "Kernel modules" (what libkmod resolves from the modalias). */
  modules?: string[];
  /** Whether the function is a VF (sysfs `physfn` exists). lspci itself never looks: a VF shows as
   * one only through its IDs, its [virtual] regions and its driver. */
  isVirtfn?: boolean;
}

export interface LspciDevice {
  /** domain, bus, devfn */
  bdf: Bdf;
  /** 64, 256 or 4096 bytes of config space as read (a dump may hold any length). */
  config: Uint8Array;
  /** What a live Linux system adds from sysfs. Absent when decoding a dump (-F). */
  sysfs?: LspciSysfs;
}

export interface LspciResult {
  stdout: string;
  stderr: string;
  status: number;
}

/** File access for -F and -i: return the file's text, or throw (an error with a Node-style `code`). */
export interface LspciIo {
  readFile(path: string): string;
}
