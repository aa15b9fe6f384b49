/**
 * The L2 switch inside one virtio-net PF (the embedded switch of an SR-IOV NIC): it connects the PF,
 * every VF and one external port (the uplink). Forwarding is MAC-table based, from what each function
 * asked for through its config mac and control queue (MAC table, RX mode):
 *
 * - broadcast goes to every other function that accepts broadcast, and to the uplink;
 * - multicast goes to every other function whose filter accepts it, and to the uplink;
 * - unicast goes to the functions whose address or unicast table matches (and to promiscuous ones);
 *   with no function match, a frame from a function goes to the uplink and a frame from the uplink
 *   is dropped (counted).
 * A frame never returns to its source port. The uplink is an API: the lab injects frames into it and
 * reads what left through it.
 *
 * Left out: VLANs, learning of addresses behind the uplink, spoof checking, rate limits, FCS.
 */
import { LabError } from '../../../base/index.js';

/** Ethernet: dst @0 (6), src @6 (6), ethertype @12 (2). */
export const ETH_ALEN = 6;
export const ETH_HLEN = 14;
/** The group (multicast) bit is bit 0 of the first destination byte (IEEE 802.3 3.2.3). */
const ETH_GROUP_BIT = 0x01;

export type MacAddress = string;

/** "52:54:00:12:34:56" from 6 bytes. */
export function formatMac(bytes: Uint8Array): MacAddress {
  if (bytes.length !== ETH_ALEN) throw new LabError('internal', `a MAC address is ${ETH_ALEN} bytes`);
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export function parseMac(text: MacAddress): Uint8Array {
  const parts = text.split(':');
  if (parts.length !== ETH_ALEN || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) {
    throw new LabError('bad-input', `not a MAC address: '${text}'`);
  }
  return Uint8Array.from(parts.map((p) => Number.parseInt(p, 16)));
}

const BROADCAST = 'ff:ff:ff:ff:ff:ff';

/** What a function's receive filter accepts (virtio-net RX mode and MAC table; facts 1.12). */
export interface RxFilter {
  readonly mac: MacAddress;
  readonly promisc: boolean;
  readonly allmulti: boolean;
  readonly alluni: boolean;
  readonly nomulti: boolean;
  readonly nouni: boolean;
  readonly nobcast: boolean;
  readonly unicast: readonly MacAddress[];
  readonly multicast: readonly MacAddress[];
}

/** A function port: the device side of one PF or VF. */
export interface SwitchPort {
  readonly name: string;
  filter(): RxFilter;
  /** Deliver a frame to the function (it counts its own receive drops). */
  receive(frame: Uint8Array): void;
}

export interface UplinkStats {
  readonly rxFrames: number;
  readonly txFrames: number;
  /** Frames from the uplink no function accepted. */
  readonly dropped: number;
}

function accepts(f: RxFilter, dst: MacAddress): boolean {
  if (f.promisc) return true;
  if (dst === BROADCAST) return !f.nobcast;
  if ((parseInt(dst.slice(0, 2), 16) & ETH_GROUP_BIT) !== 0) {
    return !f.nomulti && (f.allmulti || f.multicast.includes(dst));
  }
  return !f.nouni && (f.alluni || dst === f.mac || f.unicast.includes(dst));
}

/** An exact address match (not a promiscuous or all-unicast catch). */
function owns(f: RxFilter, dst: MacAddress): boolean {
  return !f.nouni && (dst === f.mac || f.unicast.includes(dst));
}

export class NetSwitch {
  readonly name: string;
  /** The function ports now present (the PF and its enabled VFs). */
  readonly #ports: () => Iterable<SwitchPort>;
  readonly #uplinkOut: Uint8Array[] = [];
  #uplinkRx = 0;
  #uplinkTx = 0;
  #dropped = 0;

  constructor(name: string, ports: () => Iterable<SwitchPort>) {
    this.name = name;
    this.#ports = ports;
  }

  /** A frame a function transmitted. */
  transmit(from: SwitchPort, frame: Uint8Array): void {
    this.#forward(from, frame);
  }

  /** The lab puts a frame on the wire behind the uplink. */
  injectExternal(frame: Uint8Array): void {
    if (frame.length < ETH_HLEN) throw new LabError('bad-input', `a frame is at least ${ETH_HLEN} bytes`);
    this.#uplinkRx++;
    this.#forward(undefined, frame.slice());
  }

  /** Frames that left through the uplink since the last call, oldest first. */
  readExternal(): Uint8Array[] {
    return this.#uplinkOut.splice(0, this.#uplinkOut.length);
  }

  get uplinkStats(): UplinkStats {
    return { rxFrames: this.#uplinkRx, txFrames: this.#uplinkTx, dropped: this.#dropped };
  }

  #forward(from: SwitchPort | undefined, frame: Uint8Array): void {
    const dst = formatMac(frame.subarray(0, ETH_ALEN));
    const unicast = (frame[0]! & ETH_GROUP_BIT) === 0;
    const others = [...this.#ports()].filter((p) => p !== from);
    let delivered = false;
    let owned = false;
    for (const p of others) {
      const f = p.filter();
      if (unicast && owns(f, dst)) owned = true;
      if (accepts(f, dst)) {
        p.receive(frame.slice());
        delivered = true;
      }
    }
    const toUplink = from !== undefined && (!unicast || !owned);
    if (toUplink) {
      this.#uplinkTx++;
      this.#uplinkOut.push(frame.slice());
    } else if (from === undefined && !delivered) {
      this.#dropped++;
    }
  }
}
