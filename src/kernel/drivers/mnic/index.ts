/**
 * The multi-subsystem NIC's drivers, after mlx5 (facts/kernel.md 6, 7): mnic_core (PF and VF PCI
 * driver, the SF auxiliary driver, devlink, the function provider), mnic_en (netdevs) and mnic_vdpa
 * (vDPA management devices), and the shared API their auxiliary devices carry.
 */
import type { KernelApi } from '../../kernel-api.js';
import type { ModuleDef } from '../../modules/modules.js';
import { mnicCoreModule } from './core-driver.js';
import { mnicEnModule } from './en.js';
import { mnicFwOpener } from './fw.js';
import type { MnicFwOpener } from './fw-api.js';
import { mnicVdpaModule } from './vdpa.js';

export { isMnicPf, type MnicVfCore, mnicCoreModule } from './core-driver.js';
export { mnicEnModule } from './en.js';
export * from './fw-api.js';
export * from './ids.js';
export type { MnicPf } from './pf.js';
export { isMnicSfCore, type MnicSfCore } from './sf-driver.js';
export * from './shared.js';
export { mnicVdpaModule } from './vdpa.js';

/**
 * The three mnic modules of one kernel, over the firmware client `opener` makes (default: the
 * mailbox client of fw.ts, made on first probe).
 */
export function mnicModules(k: KernelApi, opener?: () => MnicFwOpener): ModuleDef[] {
  let fw: MnicFwOpener | undefined;
  const open = opener ?? ((): MnicFwOpener => (fw ??= mnicFwOpener(k)));
  return [mnicCoreModule(k, open), mnicEnModule(k), mnicVdpaModule(k)];
}
