/** Absolute sysfs paths of kernel objects and the relative link targets sysfs_create_link computes. */
import type { Device, Driver } from '../driver-core/device.js';

export const devicePath = (dev: Device): string => `/sys${dev.devpath}`;
export const driverPath = (drv: Driver): string => `/sys/bus/${drv.data.bus}/drivers/${drv.name}`;
export const busPath = (bus: string): string => `/sys/bus/${bus}`;
export const modulePath = (name: string): string => `/sys/module/${name}`;

/** The target of a link placed in directory `fromDir` pointing at absolute `to`. */
export function relativeTarget(fromDir: string, to: string): string {
  const a = fromDir.split('/').filter(Boolean);
  const b = to.split('/').filter(Boolean);
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) common++;
  return [...a.slice(common).map(() => '..'), ...b.slice(common)].join('/');
}
