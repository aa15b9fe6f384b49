/**
 * What every piece of emulated silicon on one host shares: the host's virtual clock and its cost model
 * (with per-device overrides), and a trace sink for events a user may want to see ("CRS on 02:00.1").
 */
import type { CostModel, VirtualClock } from '../base/index.js';
import type { DmaEngine } from './dma/index.js';
import type { MsiController } from './msi.js';

export interface HwContext {
  readonly clock: VirtualClock;
  /** The host's cost model, with the named device's override applied when it has one. */
  costsFor(deviceName?: string): CostModel;
  trace(event: HwTraceEvent): void;
  /** The host's DMA engine (IOMMU + memory); device models that do DMA take ports from it. */
  readonly dma?: DmaEngine;
  /** The host's MSI window: where a device's MSI-X message writes land. */
  readonly msi?: MsiController;
}

export type HwTraceEvent =
  | { readonly kind: 'master-abort'; readonly rid: number; readonly offset: number }
  | { readonly kind: 'crs'; readonly rid: number; readonly offset: number }
  | { readonly kind: 'flr'; readonly rid: number }
  | {
      readonly kind: 'vf-enable';
      readonly pfRid: number;
      readonly numVfs: number;
      readonly readyAtNs: number;
    }
  | { readonly kind: 'vf-disable'; readonly pfRid: number; readonly numVfs: number };
