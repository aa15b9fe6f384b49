/**
 * The two ways a function of the real mnic NIC reaches VFIO on a default-topology host, as a user
 * does them, and what the tests check against the silicon:
 *
 * - `vfToVfio` (mnic_vfio_pci, the pci_iov_get_pf_drvdata path): eswitch switchdev, VF autoprobe off,
 *   one VF, its devlink port function's hw_addr and `migratable`, `modprobe mnic_vfio_pci`,
 *   driver_override and drivers_probe — all through the host shell.
 * - `auxToVfio` (vfio_mnic_aux, the auxiliary-device path): one SF (switchdev) or SIOV function made
 *   by the NIC's function provider with driver vfio; mnic_core carves "mnic_core.vfio.<n>" and the
 *   VFIO driver autoloads.
 * - `hwFn`: the function as the NIC model holds it (MAC, context area, counters), an oracle that shares
 *   no code with the drivers; `drive`: what a guest driver would do through the VFIO device file —
 *   write the context area through BAR0 and run one datapath DMA that bumps the rx counters.
 *
 * Window offsets are written out from the mnic design (spec/mnic-fw.ts's table, as documented there):
 * context area at 0x1000; datapath registers ADDR_LO 0x200, ADDR_HI 0x204, LENGTH 0x208, CTX_OFFSET
 * 0x20c, CTRL 0x210 (1 = to host), STATUS 0x214 (0 = OK).
 */

import { type MnicFunction, mnicNicOf } from '../../src/hw/index.js';
import { mnicVfioPciDrvdata, vfioMnicAuxDrvdata } from '../../src/kernel/drivers/vfio-mnic/index.js';
import type { VfioDeviceFile } from '../../src/kernel/vfio/core/index.js';
import { createHostShell } from '../../src/lab/commands/index.js';
import type { Host } from '../../src/lab/index.js';
import { CONFIG_REGION, MNIC_PF, REGION, u32At, words } from './support.js';

export const CONTEXT = 0x1000;
export const DP = {
  ADDR_LO: 0x200,
  ADDR_HI: 0x204,
  LENGTH: 0x208,
  CTX_OFFSET: 0x20c,
  CTRL: 0x210,
  STATUS: 0x214,
};

export function sh(host: Host, line: string): string {
  const r = createHostShell(host, { readFile: () => '', wallNowNs: () => 0 }).execute(line);
  if (r.status !== 0) throw new Error(`${line}: ${r.stderr}`);
  return r.stdout;
}

const macText = (mac: Uint8Array): string => [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':');

/** VF 0 of the mnic PF bound to mnic_vfio_pci, by hand; returns the VF's name. */
export function vfToVfio(host: Host, o: { mac: Uint8Array; migratable: boolean }): string {
  const pf = `/sys/bus/pci/devices/${MNIC_PF}`;
  sh(host, `devlink dev eswitch set pci/${MNIC_PF} mode switchdev`);
  sh(host, `echo 0 > ${pf}/sriov_drivers_autoprobe`);
  sh(host, `echo 1 > ${pf}/sriov_numvfs`);
  // VF 0's port: (vhca_id 0 << 16) | vport 1 (facts/kernel.md 7.3).
  const mig = o.migratable ? 'enable' : 'disable';
  sh(host, `devlink port function set pci/${MNIC_PF}/1 hw_addr ${macText(o.mac)} migratable ${mig}`);
  sh(host, 'modprobe mnic_vfio_pci');
  const vf = '0000:10:00.1';
  sh(host, `echo mnic_vfio_pci > /sys/bus/pci/devices/${vf}/driver_override`);
  sh(host, `echo ${vf} > /sys/bus/pci/drivers_probe`);
  return vf;
}

/** One SF or SIOV function with driver vfio through the NIC's function provider; its aux device name. */
export function auxToVfio(
  host: Host,
  kind: 'sf' | 'siov',
  o: { mac: Uint8Array; migratable: boolean },
): string {
  if (kind === 'sf') sh(host, `devlink dev eswitch set pci/${MNIC_PF} mode switchdev`);
  const p = host.kernel.functions.find('pci', MNIC_PF);
  if (p === undefined) throw new Error('no mnic function provider');
  const [made] = p.create(kind, 1, { driver: 'vfio', migratable: o.migratable, mac: o.mac });
  host.kernel.settle();
  return made!.devName;
}

/** The NIC model's record of the function behind a VFIO device. */
export function hwFn(host: Host, devName: string): MnicFunction {
  const nic = mnicNicOf(host.devices.find((d) => d.kind === 'mnic')!.fn)!;
  const k = host.kernel;
  const pciDev = k.findPciDevice(devName);
  const fnId =
    pciDev !== undefined
      ? mnicVfioPciDrvdata(pciDev)!.ops.migration!.driver.fn.fnId
      : vfioMnicAuxDrvdata(k.core.findDevice('auxiliary', devName)!)!.ops.shared.fn.fnId;
  const fn = nic.table.get(fnId);
  if (fn === undefined) throw new Error(`no hardware function ${fnId}`);
  return fn;
}

/** A snapshot of what migration must carry. */
export function fnBytes(fn: MnicFunction) {
  return { mac: fn.mac.slice(), context: fn.context.slice(), counters: { ...fn.counters } };
}

export const w32 = (f: VfioDeviceFile, at: number, v: number) => f.write(REGION(0) + BigInt(at), words(v));
export const r32 = (f: VfioDeviceFile, at: number): number => u32At(f.read(REGION(0) + BigInt(at), 4), 0);

/** Command: memory decode and bus mastering on (through the config region). */
export function enableDevice(f: VfioDeviceFile): void {
  f.write(REGION(CONFIG_REGION) + 4n, words(0x6).subarray(0, 2));
}

/**
 * What a guest driver does: `pattern` into the context area through BAR0, then one datapath transfer of
 * `dmaBytes` context bytes to host memory (rx counters +1 and +dmaBytes). Returns DP STATUS.
 */
export function drive(host: Host, f: VfioDeviceFile, pattern: Uint8Array, dmaBytes = 64): number {
  for (let i = 0; i < pattern.length; i += 4)
    f.write(REGION(0) + BigInt(CONTEXT + i), pattern.subarray(i, i + 4));
  const buf = host.kernel.dmaAllocCoherent(host.kernel.findPciDevice(MNIC_PF)!, 4096);
  w32(f, DP.ADDR_LO, Number(buf.iova & 0xffff_ffffn));
  w32(f, DP.ADDR_HI, Number(buf.iova >> 32n));
  w32(f, DP.LENGTH, dmaBytes);
  w32(f, DP.CTX_OFFSET, 0);
  w32(f, DP.CTRL, 1);
  return r32(f, DP.STATUS);
}
