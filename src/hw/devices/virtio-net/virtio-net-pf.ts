/**
 * The virtio-net PF: a virtio-net function with an admin virtqueue, the SR-IOV group owner of its VFs
 * (owner-api.ts; facts/virtio.md 3.1, 3.3, 6), and the switch that connects it, its VFs and an
 * external port. Admin commands are not parsed here: each admin chain's readable bytes and writable
 * size go to an `AdminCommandHandler` (admin-engine.ts), whose answer is written back as the used
 * buffer; each command charges `adminCommandNs` of modeled time. A PF reset (status 0 or FLR) drops
 * the handler; the next command gets a fresh one from the factory (reset command lists and objects).
 *
 * The group exists while VF Enable is set; member n (1..NumVFs) is VF n, reached through its
 * transport and legacy view. A member's legacy notifications go to its own BAR4 notify region.
 */

import { LabError } from '../../../base/index.js';
import { virtio } from '../../../spec/index.js';
import type { Msix } from '../../caps/msix.js';
import type { PciFunction } from '../../pci-function.js';
import type { AdminCommandHandler } from '../../virtio/admin-engine.js';
import type { AdminGroupMember, AdminGroupOwner } from '../../virtio/owner-api.js';
import type { SplitQueue } from '../../virtio/split-queue.js';
import type { FunctionBehaviour } from '../sriov-endpoint.js';
import { NetSwitch, type SwitchPort } from './net-switch.js';
import { type NetCounters, VirtioNetFunction } from './virtio-net-function.js';

/** Builds the admin command engine of an owner (admin-engine.ts: `createAdminEngine(owner, { strict })`). */
export type AdminEngineFactory = (owner: AdminGroupOwner) => AdminCommandHandler;

export interface VirtioNetPfOptions {
  readonly name: string;
  readonly adminEngine: AdminEngineFactory;
}

/** Locally administered unicast: 02:<pf>:00:00:<vf hi>:<vf lo>; the PF is VF number 0. */
export function defaultNetMac(pfName: string, vfNumber: number): Uint8Array {
  let h = 0;
  for (const c of pfName) h = (h * 31 + c.charCodeAt(0)) & 0xff;
  return Uint8Array.of(0x02, h, 0x00, 0x00, (vfNumber >> 8) & 0xff, vfNumber & 0xff);
}

const PF_BY_FUNCTION = new WeakMap<PciFunction, VirtioNetPf>();

/** The virtio-net PF model behind a function built from the catalog, if it is one. */
export function virtioNetPfOf(fn: PciFunction): VirtioNetPf | undefined {
  return PF_BY_FUNCTION.get(fn);
}

export class VirtioNetPf implements AdminGroupOwner {
  readonly name: string;
  readonly virtioDeviceType = virtio.VIRTIO_ID_NET;
  readonly switch: NetSwitch;
  #net: VirtioNetFunction | undefined;
  #fn: PciFunction | undefined;
  readonly #vfs = new WeakMap<PciFunction, VirtioNetFunction>();
  readonly #handler: { current: AdminCommandHandler | undefined } = { current: undefined };
  readonly #adminEngine: AdminEngineFactory;

  constructor(options: VirtioNetPfOptions) {
    this.name = options.name;
    this.#adminEngine = options.adminEngine;
    this.switch = new NetSwitch(`${options.name}-switch`, () => this.#ports());
  }

  /** The PF's own virtio-net function. */
  get net(): VirtioNetFunction {
    if (this.#net === undefined)
      throw new LabError('invalid-state', `${this.name}: the PF function is not built yet`);
    return this.#net;
  }

  /** The behaviour of the PF function (its BAR model and vendor capabilities). */
  pfBehaviour(msix: Msix): FunctionBehaviour {
    const net = new VirtioNetFunction({
      name: this.name,
      mac: defaultNetMac(this.name, 0),
      msix,
      switch: () => this.switch,
      memberId: 0,
      admin: {
        serve: (ring) => this.#serveAdmin(ring),
        reset: () => {
          this.#handler.current = undefined;
        },
      },
    });
    this.#net = net;
    const b = net.behaviour();
    return {
      model: b.model,
      capabilities: (fn) => {
        this.#fn = fn;
        PF_BY_FUNCTION.set(fn, this);
        return b.capabilities(fn);
      },
    };
  }

  /** The behaviour of VF `index` (0-based; VF number index + 1). */
  vfBehaviour(index: number, msix: Msix): FunctionBehaviour {
    const vfNumber = index + 1;
    const net = new VirtioNetFunction({
      name: `${this.name}/vf${index}`,
      mac: defaultNetMac(this.name, vfNumber),
      msix,
      switch: () => this.switch,
      memberId: vfNumber,
    });
    const b = net.behaviour();
    return {
      model: b.model,
      capabilities: (fn) => {
        this.#vfs.set(fn, net);
        return b.capabilities(fn);
      },
    };
  }

  /** VF number `vfNumber` (1-based) while VF Enable is set. */
  vf(vfNumber: number): VirtioNetFunction | undefined {
    const fn = this.#fn?.sriov?.vfs[vfNumber - 1];
    return fn === undefined ? undefined : this.#vfs.get(fn);
  }

  /** Put a frame on the external port's wire (it enters the switch from outside). */
  injectExternal(frame: Uint8Array): void {
    this.switch.injectExternal(frame);
  }

  /** Frames that left through the external port since the last call. */
  readExternal(): Uint8Array[] {
    return this.switch.readExternal();
  }

  /** Counters of every function: the PF as `pf`, VFs by VF number. */
  stats(): { pf: NetCounters; vfs: Map<number, NetCounters> } {
    const vfs = new Map<number, NetCounters>();
    const n = this.#fn?.sriov?.vfs.length ?? 0;
    for (let i = 1; i <= n; i++) {
      const v = this.vf(i);
      if (v !== undefined) vfs.set(i, v.stats());
    }
    return { pf: this.net.stats(), vfs };
  }

  // ---- AdminGroupOwner ----

  sriovGroupExists(): boolean {
    return this.#fn?.sriov?.vfEnabled ?? false;
  }

  numMembers(): number {
    return this.sriovGroupExists() ? (this.#fn?.sriov?.vfs.length ?? 0) : 0;
  }

  member(memberId: number): AdminGroupMember | undefined {
    if (!this.sriovGroupExists() || !Number.isInteger(memberId) || memberId < 1) return undefined;
    return this.vf(memberId)?.member;
  }

  // ---- internals ----

  #ports(): SwitchPort[] {
    const ports: SwitchPort[] = this.#net === undefined ? [] : [this.#net];
    for (const fn of this.#fn?.sriov?.vfs ?? []) {
      const v = this.#vfs.get(fn);
      if (v !== undefined) ports.push(v);
    }
    return ports;
  }

  #serveAdmin(ring: SplitQueue): void {
    const fn = this.#fn;
    if (fn === undefined) return;
    this.#handler.current ??= this.#adminEngine(this);
    const handler = this.#handler.current;
    for (;;) {
      const chain = ring.popAvailable();
      if (chain === undefined) break;
      const readable = ring.gatherReadable(chain);
      const answer = handler.execute(readable, chain.writableBytes);
      const written = ring.scatterWritable(
        chain,
        answer.subarray(0, Math.min(answer.length, chain.writableBytes)),
      );
      ring.pushUsed(chain.head, written);
      fn.ctx.clock.advance(fn.ctx.costsFor(fn.name).adminCommandNs);
    }
  }
}
