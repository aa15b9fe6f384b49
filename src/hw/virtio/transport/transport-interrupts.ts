/**
 * Interrupts of the modern transport (virtio-pci-transport.ts): the ISR, MSI-X messages for queues and
 * config changes (NO_VECTOR suppresses), the PCI Status Interrupt bit while MSI-X is off (INTx itself is
 * not modeled), and the interrupts a stopped device owes until it resumes (facts 4.1).
 */
import { pci, virtio } from '../../../spec/index.js';
import type { Msix } from '../../caps/msix.js';
import type { PciFunction } from '../../pci-function.js';

/** What the interrupt logic reads from the transport, at the time it signals. */
export interface InterruptSource {
  readonly msix: Msix;
  fn(): PciFunction | undefined;
  stopped(): boolean;
  /** MSI-X vector of queue `index`; undefined if there is no such queue. */
  queueVector(index: number): number | undefined;
  configVector(): number;
}

export class TransportInterrupts {
  readonly #src: InterruptSource;
  #isr = 0;
  #owedConfigIrq = false;
  #owedQueueIrqs = new Set<number>();

  constructor(src: InterruptSource) {
    this.#src = src;
  }

  get isr(): number {
    return this.#isr;
  }

  /** Read the ISR: returns it and clears it (and the Interrupt Status the ISR drives). */
  readAndClear(): number {
    const v = this.#isr;
    this.#isr = 0;
    this.updateIntxStatus();
    return v;
  }

  /** Device reset: ISR clear, nothing owed. The caller updates the Interrupt Status afterwards. */
  clear(): void {
    this.#isr = 0;
    this.#owedConfigIrq = false;
    this.#owedQueueIrqs.clear();
  }

  /** On leaving the stopped mode: the config interrupt owed first, then the queues'. */
  sendOwed(): void {
    if (this.#owedConfigIrq) {
      this.#owedConfigIrq = false;
      this.signalConfig();
    }
    const owed = [...this.#owedQueueIrqs];
    this.#owedQueueIrqs.clear();
    for (const i of owed) this.signalQueue(i);
  }

  /** A used buffer notification for queue `index`. */
  signalQueue(index: number): void {
    if (this.#src.stopped()) {
      this.#owedQueueIrqs.add(index);
      return;
    }
    const msix = this.#src.msix;
    if (msix.enabled) {
      const v = this.#src.queueVector(index) ?? virtio.VIRTIO_MSI_NO_VECTOR;
      if (v !== virtio.VIRTIO_MSI_NO_VECTOR) msix.signal(v);
      return;
    }
    this.#isr |= virtio.VIRTIO_PCI_ISR_QUEUE;
    this.updateIntxStatus();
  }

  /** A configuration change notification. */
  signalConfig(): void {
    if (this.#src.stopped()) {
      this.#owedConfigIrq = true;
      return;
    }
    this.#isr |= virtio.VIRTIO_PCI_ISR_CONFIG;
    const msix = this.#src.msix;
    if (msix.enabled) {
      const configVector = this.#src.configVector();
      if (configVector !== virtio.VIRTIO_MSI_NO_VECTOR) msix.signal(configVector);
      return;
    }
    this.updateIntxStatus();
  }

  /** The PCI Status Interrupt bit follows the ISR while MSI-X is off (a VF has no INTx). */
  updateIntxStatus(): void {
    const fn = this.#src.fn();
    if (fn === undefined || fn.isVf) return;
    const asserted = this.#isr !== 0 && !this.#src.msix.enabled;
    fn.config.setBits(pci.PCI_STATUS, 2, pci.PCI_STATUS_INTERRUPT, asserted);
  }
}
