/**
 * The two VFIO drivers for the mnic NIC's functions, side by side (issue 6 §2): `mnic_vfio_pci`, the
 * VF variant driver that reaches the PF through pci_iov_get_pf_drvdata (the short cut), and
 * `vfio_mnic_aux`, the VFIO-layer driver that probes to mnic_core's "vfio" auxiliary device (the
 * seed's proposal). Both migrate through the same firmware arcs (migrate.ts) and stream (stream.ts).
 */
export * from './aux-config.js';
export * from './aux-device.js';
export * from './aux-driver.js';
export { MNIC_CORE_VFIO_AUX_ID, type MnicMigration } from './common.js';
export * from './migrate.js';
export * from './pci-variant.js';
export * from './stream.js';
