/**
 * `vfiolab bench virtio`: the virtio paths the lab models, wall against modeled.
 * - Admin commands: LEGACY_COMMON_CFG_READ of a VF's device status through the kernel's admin API on
 *   the PF's admin virtqueue (build, DMA, device engine, completion): commands per second (wall) and
 *   the modeled latency of one command.
 * - Data path: frames the host's virtio_net sends on the PF, through its TX queue and the device's
 *   switch to the external port: frames per second (wall) and modeled time per frame.
 * Medians over runs; the ratio compares the two paths.
 */

import { LabError } from '../../base/index.js';
import { virtioNetPfOf } from '../../hw/index.js';
import { type Device, isVirtioPciDevice, virtioPciAdminLegacyCommonIoRead } from '../../kernel/index.js';
import { Lab } from '../lab.js';
import type { Platform } from '../platform.js';

const PF = '0000:01:00.0';
/** Legacy header offset of the device status register (facts/virtio.md 1.11). */
const LEGACY_DEVICE_STATUS = 18;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round3 = (x: number): number => Math.round(x * 1000) / 1000;

export function benchVirtio(
  platform: Platform,
  o: { commands: number; frames: number; runs: number },
): Record<string, unknown> {
  const adminRates: number[] = [];
  const adminModeledNs: number[] = [];
  const frameRates: number[] = [];
  const frameModeledNs: number[] = [];
  let delivered = 0;
  for (let r = 0; r < o.runs; r++) {
    const host = Lab.default().host();
    const k = host.kernel;
    k.sysfs.write(`/sys/bus/pci/devices/${PF}/sriov_drivers_autoprobe`, '0\n');
    k.sysfs.write(`/sys/bus/pci/devices/${PF}/sriov_numvfs`, '2\n');
    k.settle();
    const vf = k.findPciDevice('0000:01:00.1') as Device;
    let m0 = host.clock.nowNs;
    let w0 = platform.wallNowNs();
    for (let i = 0; i < o.commands; i++) virtioPciAdminLegacyCommonIoRead(k, vf, LEGACY_DEVICE_STATUS, 1);
    adminRates.push(o.commands / ((platform.wallNowNs() - w0) / 1e9));
    adminModeledNs.push((host.clock.nowNs - m0) / o.commands);

    const pfDev = k.findPciDevice(PF)!;
    const vp = pfDev.driverData;
    if (!isVirtioPciDevice(vp) || vp.transport.kind !== 'modern' || vp.transport.net === undefined) {
      throw new LabError('internal', 'the virtio-net PF has no host netdev');
    }
    const net = vp.transport.net;
    const model = virtioNetPfOf(host.devices.find((d) => d.kind === 'virtio-net')!.fn);
    const frame = new Uint8Array(64);
    frame.set([0x02, 0, 0, 0, 0, 0x99], 0); // to a MAC nobody in the device owns: the external port
    m0 = host.clock.nowNs;
    w0 = platform.wallNowNs();
    let sent = 0;
    while (sent < o.frames) {
      if (net.transmit(frame)) sent++;
      else net.reclaimTx();
    }
    net.reclaimTx();
    frameRates.push(o.frames / ((platform.wallNowNs() - w0) / 1e9));
    frameModeledNs.push((host.clock.nowNs - m0) / o.frames);
    delivered = model?.readExternal().length ?? 0;
  }
  const adminPerSec = median(adminRates);
  const framesPerSec = median(frameRates);
  return {
    bench: 'virtio',
    machine: platform.machine(),
    runs: o.runs,
    admin: {
      command: 'LEGACY_COMMON_CFG_READ (device status) via the PF admin virtqueue',
      commandsPerRun: o.commands,
      wallCommandsPerSecMedian: Math.round(adminPerSec),
      modeledNsPerCommand: round3(median(adminModeledNs)),
    },
    dataPath: {
      path: 'host virtio_net on the PF → TX queue → device switch → external port',
      framesPerRun: o.frames,
      framesAtExternalPortLastRun: delivered,
      wallFramesPerSecMedian: Math.round(framesPerSec),
      modeledNsPerFrame: round3(median(frameModeledNs)),
    },
    ratios: { wallFramesToAdminCommands: round3(framesPerSec / adminPerSec) },
  };
}
