/**
 * A virtio-net function's receive filter as the control virtqueue sets it (virtio 1.4
 * device-types/net/description.tex "Packet Receive Filtering" and "Setting MAC Address Filtering";
 * facts/virtio.md 1.12, 4.3): RX mode flags (class VIRTIO_NET_CTRL_RX) and the MAC table and address
 * (class VIRTIO_NET_CTRL_MAC). One parser serves a driver's command and a DEV_PARTS_SET of the
 * matching VIRTIO_NET_DEV_PART_CVQ_CFG_PART, so restored state passes the checks a guest's does.
 *
 * Reset values: every RX flag off, both tables empty, the mac the function's provisioned one.
 * SPEC-DEVIATION (choice, the spec leaves it open): QEMU resets with promiscuous mode on for old
 * drivers; this device starts with it off, and without VIRTIO_NET_F_CTRL_RX negotiated it accepts all
 * multicast (a driver that cannot program a filter must still see multicast).
 *
 * Left out: VLAN filtering, ANNOUNCE, MQ, offloads, notification coalescing, statistics.
 */
import { u32, writeLe } from '../../../base/index.js';
import { virtio } from '../../../spec/index.js';
import { ETH_ALEN, formatMac, type MacAddress } from './net-switch.js';

/** `struct virtio_net_ctrl_mac { le32 entries; u8 macs[entries][6]; }`, twice (unicast, multicast). */
const MAC_TABLE_ENTRIES_BYTES = 4;
/** RX mode commands carry one byte: 0 off, anything else on. */
const RX_MODE_DATA_BYTES = 1;

export type RxModeFlag = 'promisc' | 'allmulti' | 'alluni' | 'nomulti' | 'nouni' | 'nobcast';

/** RX class commands in command order (VIRTIO_NET_CTRL_RX_PROMISC = 0 ... NOBCAST = 5). */
export const RX_MODE_COMMANDS: ReadonlyArray<readonly [number, RxModeFlag, 'ctrl-rx' | 'ctrl-rx-extra']> = [
  [virtio.VIRTIO_NET_CTRL_RX_PROMISC, 'promisc', 'ctrl-rx'],
  [virtio.VIRTIO_NET_CTRL_RX_ALLMULTI, 'allmulti', 'ctrl-rx'],
  [virtio.VIRTIO_NET_CTRL_RX_ALLUNI, 'alluni', 'ctrl-rx-extra'],
  [virtio.VIRTIO_NET_CTRL_RX_NOMULTI, 'nomulti', 'ctrl-rx-extra'],
  [virtio.VIRTIO_NET_CTRL_RX_NOUNI, 'nouni', 'ctrl-rx-extra'],
  [virtio.VIRTIO_NET_CTRL_RX_NOBCAST, 'nobcast', 'ctrl-rx-extra'],
];

export interface FilterState {
  mac: Uint8Array;
  rx: Record<RxModeFlag, boolean>;
  unicast: Uint8Array[];
  multicast: Uint8Array[];
}

export function resetFilter(mac: Uint8Array): FilterState {
  return {
    mac: mac.slice(),
    rx: { promisc: false, allmulti: false, alluni: false, nomulti: false, nouni: false, nobcast: false },
    unicast: [],
    multicast: [],
  };
}

/** Which feature a (class, command) needs (the spec's feature requirement for each command). */
export type CtrlFeature = 'ctrl-rx' | 'ctrl-rx-extra' | 'ctrl-mac-addr';

/** A parsed control command: the feature it needs and what applying it does. */
export interface CtrlCommand {
  readonly needs: CtrlFeature;
  apply(state: FilterState): void;
}

function parseMacTable(data: Uint8Array): { unicast: Uint8Array[]; multicast: Uint8Array[] } | undefined {
  const tables: Uint8Array[][] = [];
  let at = 0;
  for (let t = 0; t < 2; t++) {
    if (at + MAC_TABLE_ENTRIES_BYTES > data.length) return undefined;
    const n = u32(data, at);
    at += MAC_TABLE_ENTRIES_BYTES;
    if (n > (data.length - at) / ETH_ALEN) return undefined;
    const macs: Uint8Array[] = [];
    for (let i = 0; i < n; i++, at += ETH_ALEN) macs.push(data.slice(at, at + ETH_ALEN));
    tables.push(macs);
  }
  if (at !== data.length) return undefined;
  return { unicast: tables[0]!, multicast: tables[1]! };
}

/** Parse a control command's data; undefined for an unknown command or malformed data. */
export function parseCtrl(cls: number, command: number, data: Uint8Array): CtrlCommand | undefined {
  if (cls === virtio.VIRTIO_NET_CTRL_RX) {
    const entry = RX_MODE_COMMANDS.find(([c]) => c === command);
    if (entry === undefined || data.length !== RX_MODE_DATA_BYTES) return undefined;
    const on = data[0] !== 0;
    return {
      needs: entry[2],
      apply: (s) => {
        s.rx[entry[1]] = on;
      },
    };
  }
  if (cls === virtio.VIRTIO_NET_CTRL_MAC && command === virtio.VIRTIO_NET_CTRL_MAC_TABLE_SET) {
    const t = parseMacTable(data);
    if (t === undefined) return undefined;
    return {
      needs: 'ctrl-rx',
      apply: (s) => {
        s.unicast = t.unicast;
        s.multicast = t.multicast;
      },
    };
  }
  if (cls === virtio.VIRTIO_NET_CTRL_MAC && command === virtio.VIRTIO_NET_CTRL_MAC_ADDR_SET) {
    if (data.length !== ETH_ALEN) return undefined;
    const mac = data.slice();
    return {
      needs: 'ctrl-mac-addr',
      apply: (s) => {
        s.mac = mac;
      },
    };
  }
  return undefined;
}

/** The data of every command the filter state answers to, in (class, command) order. */
export function ctrlStateData(s: FilterState): Array<{ cls: number; command: number; data: Uint8Array }> {
  const out = RX_MODE_COMMANDS.map(([command, flag]) => ({
    cls: virtio.VIRTIO_NET_CTRL_RX,
    command,
    data: Uint8Array.of(s.rx[flag] ? 1 : 0),
  }));
  const table = new Uint8Array(
    2 * MAC_TABLE_ENTRIES_BYTES + ETH_ALEN * (s.unicast.length + s.multicast.length),
  );
  let at = 0;
  for (const list of [s.unicast, s.multicast]) {
    writeLe(table, at, 4, list.length);
    at += MAC_TABLE_ENTRIES_BYTES;
    for (const m of list) {
      table.set(m, at);
      at += ETH_ALEN;
    }
  }
  out.push({ cls: virtio.VIRTIO_NET_CTRL_MAC, command: virtio.VIRTIO_NET_CTRL_MAC_TABLE_SET, data: table });
  out.push({
    cls: virtio.VIRTIO_NET_CTRL_MAC,
    command: virtio.VIRTIO_NET_CTRL_MAC_ADDR_SET,
    data: s.mac.slice(),
  });
  return out;
}

export const macList = (list: readonly Uint8Array[]): MacAddress[] => list.map(formatMac);
