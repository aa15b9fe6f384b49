/**
 * struct resource as far as PCI BARs need it, with the IORESOURCE_* flags Linux puts in the sysfs
 * `resource` file (include/linux/ioport.h) and the BAR's own low flag bits copied in, as
 * decode_bar() does.
 */

export const IORESOURCE_IO = 0x00000100;
export const IORESOURCE_MEM = 0x00000200;
export const IORESOURCE_PREFETCH = 0x00002000;
export const IORESOURCE_SIZEALIGN = 0x00040000;
export const IORESOURCE_MEM_64 = 0x00100000;
export const IORESOURCE_UNSET = 0x20000000;

/** Resource slots of a pci_dev: 0-5 BARs, 6 ROM, 7-12 the IOV (VF) BARs (PCI_IOV_RESOURCES). */
export const PCI_ROM_RESOURCE = 6;
export const PCI_IOV_RESOURCES = 7;
export const PCI_NUM_RESOURCES = 13;

export interface Resource {
  /** First and last byte; an empty slot is 0/0 with flags 0. */
  start: bigint;
  end: bigint;
  flags: number;
}

export const emptyResource = (): Resource => ({ start: 0n, end: 0n, flags: 0 });

export function resourceSize(r: Resource): bigint {
  return r.flags === 0 ? 0n : r.end - r.start + 1n;
}
