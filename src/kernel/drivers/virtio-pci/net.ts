/**
 * The host's virtio_net (drivers/net/virtio_net.c) on a function virtio-pci keeps for the host: one
 * RX/TX queue pair (receiveq1 = 0, transmitq1 = 1) and the control queue (2) when CTRL_VQ is
 * negotiated (facts/virtio.md §1.12), its MAC (from device config with VIRTIO_NET_F_MAC, else a
 * locally administered address), link state, and the per-queue counters `ethtool -S` shows
 * (virtnet_rq_stats_desc / virtnet_sq_stats_desc names). Its netdev is registered in the kernel's one
 * net device list (kernel/net) under udev's predictable name, as every driver netdev is, and leaves
 * it on remove.
 *
 * RX uses "small" buffers (no MRG_RXBUF, no guest offloads): each buffer is one segment of the
 * 12-byte virtio_net_hdr plus GOOD_PACKET_LEN bytes, posted at probe. TX puts the header and the frame
 * in one segment.
 *
 * SPEC-DEVIATION: the feature set is the subset the model carries frames with (MAC, STATUS, MTU,
 * CTRL_VQ, CTRL_RX, CTRL_MAC_ADDR, SPEED_DUPLEX); Linux also takes the offload, MQ and RSS features.
 * SPEC-DEVIATION: the queues run from probe whatever the netdev's IFF_UP (Linux posts RX buffers and
 * enables NAPI at ndo_open); the net device list has no ndo_open/ndo_stop into drivers, and the lab's
 * frame tests drive the queues without `ip link set up`.
 * Left out: control-queue commands (the queue exists; no RX-mode or MAC commands are sent), NAPI
 * budgets, XDP, the stack above the netdev.
 */
import { virtio } from '../../../spec/index.js';
import type { BufferSegment } from '../../../vmm/guest/index.js';
import type { Device } from '../../driver-core/device.js';
import type { DmaCoherent, KernelApi } from '../../kernel-api.js';
import type { Netdev } from '../../net/index.js';
import { type ModernDev, readDeviceConfig } from './modern-dev.js';
import type { HostVq } from './vq.js';

/** GOOD_PACKET_LEN = ETH_HLEN + VLAN_HLEN + ETH_DATA_LEN (virtio_net.c). */
const GOOD_PACKET_LEN = 14 + 4 + 1500;
const HDR_BYTES = virtio.VirtioNetHdr.sizeBytes;
const RX_BUF_BYTES = HDR_BYTES + GOOD_PACKET_LEN;
const MAC_BYTES = 6;
const MAC_OFFSET = 0;
const STATUS_OFFSET = 6;
const STATUS_BYTES = 2;

const bit = (b: number): bigint => 1n << BigInt(b);

/** The features virtio_net asks for (its feature table, as far as the model goes). */
export const VIRTIO_NET_DRIVER_FEATURES: bigint = [
  virtio.VIRTIO_NET_F_MAC,
  virtio.VIRTIO_NET_F_STATUS,
  virtio.VIRTIO_NET_F_MTU,
  virtio.VIRTIO_NET_F_CTRL_VQ,
  virtio.VIRTIO_NET_F_CTRL_RX,
  virtio.VIRTIO_NET_F_CTRL_MAC_ADDR,
  virtio.VIRTIO_NET_F_SPEED_DUPLEX,
].reduce((acc, b) => acc | bit(b), 0n);

export const RXQ_INDEX = 0;
export const TXQ_INDEX = 1;
export const CTRLQ_INDEX = 2;

export interface NetQueueStats {
  packets: number;
  bytes: number;
  drops: number;
  kicks: number;
}

interface RxToken {
  readonly slot: number;
}

interface TxToken {
  readonly buf: DmaCoherent;
  readonly lengthBytes: number;
}

export interface VirtioNetQueues {
  readonly rx: HostVq<RxToken>;
  readonly tx: HostVq<TxToken>;
  readonly ctrl: HostVq<unknown> | undefined;
}

/** One host netdev over a virtio-net function. */
export class VirtioNet {
  readonly mac: Uint8Array;
  readonly rxStats: NetQueueStats = { packets: 0, bytes: 0, drops: 0, kicks: 0 };
  readonly txStats: NetQueueStats = { packets: 0, bytes: 0, drops: 0, kicks: 0 };
  readonly queues: VirtioNetQueues;
  /** Frames received, in order, until a listener takes them (the stack above is not modeled). */
  readonly received: Uint8Array[] = [];
  readonly #k: KernelApi;
  readonly #dev: Device;
  readonly #m: ModernDev;
  readonly #features: bigint;
  readonly #rxBufs: DmaCoherent;
  #netdev: Netdev | undefined;

  constructor(k: KernelApi, dev: Device, m: ModernDev, features: bigint, queues: VirtioNetQueues) {
    this.#k = k;
    this.#dev = dev;
    this.#m = m;
    this.#features = features;
    this.queues = queues;
    if ((features & bit(virtio.VIRTIO_NET_F_MAC)) !== 0n) {
      this.mac = readDeviceConfig(m, MAC_OFFSET, MAC_BYTES);
    } else {
      // eth_hw_addr_random: a locally administered unicast address (here derived from the BDF, for
      // determinism).
      const p = k.pdev(dev);
      this.mac = Uint8Array.of(0x02, 0x00, p.bdf.domain & 0xff, p.bdf.bus, p.bdf.devfn, 0x01);
    }
    this.#rxBufs = k.dmaAllocCoherent(dev, RX_BUF_BYTES * queues.rx.size);
  }

  /** The registered netdev (undefined before register_netdev and after unregister_netdev). */
  get netdev(): Netdev | undefined {
    return this.#netdev;
  }

  /**
   * register_netdev in the kernel's net device list, under `name`; EEXIST if a link has that name
   * (virtnet_probe then fails).
   */
  register(name: string): Netdev {
    if (this.#netdev !== undefined) return this.#netdev;
    this.#netdev = this.#k.net.register({
      name,
      parent: this.#dev,
      mac: this.mac,
      ethtoolStats: () => this.ethtoolStats(),
    });
    return this.#netdev;
  }

  /** unregister_netdev (virtnet_remove's first step); nothing if not registered. */
  unregister(): void {
    if (this.#netdev === undefined) return;
    this.#k.net.unregister(this.#netdev);
    this.#netdev = undefined;
  }

  get macText(): string {
    return [...this.mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
  }

  /** Link state: the config's status field with VIRTIO_NET_F_STATUS, else always up. */
  get linkUp(): boolean {
    if ((this.#features & bit(virtio.VIRTIO_NET_F_STATUS)) === 0n) return true;
    const s = readDeviceConfig(this.#m, STATUS_OFFSET, STATUS_BYTES);
    return ((s[0]! | (s[1]! << 8)) & virtio.VIRTIO_NET_S_LINK_UP) !== 0;
  }

  /** try_fill_recv: post every free RX buffer, then kick. */
  fillRx(): void {
    const rx = this.queues.rx;
    let added = false;
    for (let slot = 0; slot < rx.size && rx.driver.numFree > 0; slot++) {
      if (this.#rxPosted.has(slot)) continue;
      this.#postRx(slot);
      added = true;
    }
    if (added) this.#kick(rx, this.rxStats);
  }

  readonly #rxPosted = new Set<number>();

  #postRx(slot: number): void {
    const seg: BufferSegment = { addr: this.#rxBufs.iova + BigInt(slot * RX_BUF_BYTES), len: RX_BUF_BYTES };
    this.queues.rx.driver.add([], [seg], { slot });
    this.#rxPosted.add(slot);
  }

  #kick(q: { kick(): boolean }, stats: NetQueueStats): void {
    if (q.kick()) stats.kicks++;
  }

  /** virtnet_poll on RX: take every used buffer, count it, repost it. */
  pollRx(): number {
    const rx = this.queues.rx;
    let n = 0;
    for (;;) {
      const used = rx.driver.getUsed();
      if (used === undefined) break;
      n++;
      const slot = used.token.slot;
      this.#rxPosted.delete(slot);
      if (used.len < HDR_BYTES || used.len > RX_BUF_BYTES) {
        // receive_buf: "rx error: len %u exceeds max size" / too short → dropped.
        this.rxStats.drops++;
      } else {
        const frameLen = used.len - HDR_BYTES;
        const at = this.#rxBufs.cpuAddr + BigInt(slot * RX_BUF_BYTES + HDR_BYTES);
        this.received.push(this.#k.ram.read(at, frameLen));
        this.rxStats.packets++;
        this.rxStats.bytes += frameLen;
      }
      this.#postRx(slot);
    }
    if (n > 0) this.#kick(rx, this.rxStats);
    return n;
  }

  /** free_old_xmit: take back completed TX buffers. */
  reclaimTx(): number {
    let n = 0;
    for (;;) {
      const used = this.queues.tx.driver.getUsed();
      if (used === undefined) return n;
      n++;
      this.txStats.packets++;
      this.txStats.bytes += used.token.lengthBytes;
      this.#k.dmaFreeCoherent(this.#dev, used.token.buf);
    }
  }

  /**
   * start_xmit: a zeroed virtio_net_hdr and the frame in one segment. Returns false (and counts a
   * drop) when the ring is full after reclaiming.
   */
  transmit(frame: Uint8Array): boolean {
    this.reclaimTx();
    const tx = this.queues.tx;
    if (tx.driver.numFree === 0) {
      this.txStats.drops++;
      return false;
    }
    const buf = this.#k.dmaAllocCoherent(this.#dev, HDR_BYTES + frame.length);
    this.#k.ram.write(buf.cpuAddr + BigInt(HDR_BYTES), frame);
    tx.driver.add([{ addr: buf.iova, len: HDR_BYTES + frame.length }], [], {
      buf,
      lengthBytes: frame.length,
    });
    this.#kick(tx, this.txStats);
    // A device that completes at once is reaped now, as the TX interrupt would.
    this.reclaimTx();
    return true;
  }

  /** Interrupt handlers (one vector per queue). */
  onRxInterrupt(): void {
    this.pollRx();
  }

  onTxInterrupt(): void {
    this.reclaimTx();
  }

  /** `ethtool -S` rows, in the order Linux prints them for one queue pair. */
  ethtoolStats(): [string, bigint][] {
    const rows: [string, number][] = [
      ['rx_queue_0_packets', this.rxStats.packets],
      ['rx_queue_0_bytes', this.rxStats.bytes],
      ['rx_queue_0_drops', this.rxStats.drops],
      ['rx_queue_0_kicks', this.rxStats.kicks],
      ['tx_queue_0_packets', this.txStats.packets],
      ['tx_queue_0_bytes', this.txStats.bytes],
      ['tx_queue_0_drops', this.txStats.drops],
      ['tx_queue_0_kicks', this.txStats.kicks],
    ];
    return rows.map(([name, v]) => [name, BigInt(v)]);
  }

  /** remove_vq_common after the reset: give back every buffer. */
  free(): void {
    for (const t of this.queues.tx.driver.reset()) this.#k.dmaFreeCoherent(this.#dev, t.buf);
    this.queues.rx.driver.reset();
    this.#rxPosted.clear();
    this.#k.dmaFreeCoherent(this.#dev, this.#rxBufs);
  }
}
