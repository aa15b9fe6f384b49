/**
 * Names and numbers the mnic drivers share: PCI ids, module and auxiliary names, the devlink port
 * index layout (mlx5's (vhca_id << 16) | vport; facts/kernel.md 7.3), and a small id allocator that
 * hands out the lowest free id (the kernel's IDA) in O(log n), so that creating thousands of
 * functions stays linear.
 */

export const MNIC_VENDOR = 0x1f00;
export const MNIC_PF_DEVICE = 0x1021;
export const MNIC_VF_DEVICE = 0x1022;

/** KBUILD_MODNAME of the core driver: auxiliary devices are "mnic_core.<name>.<id>". */
export const MNIC_CORE = 'mnic_core';
/** The VF VFIO variant driver's name (driver_override target for VFs handed to VFIO). */
export const MNIC_VFIO_PCI = 'mnic_vfio_pci';

/** Auxiliary device names the core carves. */
export type MnicAuxName = 'eth' | 'vnet' | 'vfio';

/** The uplink vport (MLX5_VPORT_UPLINK): the physical port's devlink index in legacy and switchdev mode. */
export const VPORT_UPLINK = 0xffff;
/** The PF's own vport; VF i is vport i + 1. */
export const VPORT_PF = 0;

/** mlx5_esw_vport_to_devlink_port_index: (vhca_id << 16) | vport. */
export function devlinkPortIndex(vhcaId: number, vport: number): number {
  return ((vhcaId & 0xffff) * 0x10000 + (vport & 0xffff)) >>> 0;
}

/** The lowest free non-negative id, like the kernel's IDA. */
export class Ida {
  #next = 0;
  /** Freed ids below #next, as a binary min-heap. */
  readonly #free: number[] = [];

  alloc(): number {
    if (this.#free.length === 0) return this.#next++;
    const top = this.#free[0]!;
    const last = this.#free.pop()!;
    if (this.#free.length > 0) {
      this.#free[0] = last;
      this.#siftDown(0);
    }
    return top;
  }

  free(id: number): void {
    if (id === this.#next - 1) {
      this.#next--;
      // Trailing ids that were freed earlier are reclaimed lazily: alloc takes the heap first.
      return;
    }
    this.#free.push(id);
    this.#siftUp(this.#free.length - 1);
  }

  #siftUp(i: number): void {
    const h = this.#free;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]! <= h[i]!) return;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }

  #siftDown(i: number): void {
    const h = this.#free;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l]! < h[m]!) m = l;
      if (r < h.length && h[r]! < h[m]!) m = r;
      if (m === i) return;
      [h[m], h[i]] = [h[i]!, h[m]!];
      i = m;
    }
  }
}

export function macText(mac: Uint8Array): string {
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** MAC `base` plus `i` in its low 24 bits (the creation API's rule for function i). */
export function macPlus(base: Uint8Array, i: number): Uint8Array {
  const out = Uint8Array.from(base);
  const low = ((out[3]! << 16) | (out[4]! << 8) | out[5]!) + i;
  out[3] = (low >> 16) & 0xff;
  out[4] = (low >> 8) & 0xff;
  out[5] = low & 0xff;
  return out;
}
