/**
 * Kernel uevents (lib/kobject_uevent.c): an action on a device's devpath with its environment. They
 * go to a log that `udevadm monitor` prints and to udev, which loads modules for MODALIAS.
 */

export type UeventAction = 'add' | 'remove' | 'change' | 'bind' | 'unbind';

export interface Uevent {
  readonly seqnum: number;
  readonly modeledNs: number;
  readonly action: UeventAction;
  /** Without the /sys prefix: `/devices/pci0000:00/0000:00:01.0/0000:01:00.1`. */
  readonly devpath: string;
  readonly subsystem: string;
  /** Environment after ACTION, DEVPATH, SUBSYSTEM: DRIVER, PCI_ID, MODALIAS, … in the kernel's order. */
  readonly env: ReadonlyArray<readonly [string, string]>;
}
