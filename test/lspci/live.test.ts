/**
 * Live mode: devices with a sysfs view, as lspci shows them on a running Linux. The rules (pciutils
 * 3.9.0, lib/sysfs.c and lspci.c):
 * - the header line, -d and -t -v names take vendor/device/class from sysfs, not config space, so a VF
 *   (config space ffff:ffff) shows its real IDs while `-x` still dumps `ff ff ff ff`;
 * - regions take address, size and flags from the sysfs `resource` file: `[size=]` appears, and a VF's
 *   BARs, which its config space does not hold, are `[virtual]`;
 * - the SR-IOV capability's VF BAR lines come from config space and carry no size;
 * - `Kernel driver in use` and `Kernel modules` appear with -k or -v (modules without repeats);
 * - a bridge's windows come from the four bridge lines of `resource`; their address has no type bits,
 *   so even a 64-bit prefetchable window is labelled [32-bit] and printed with 8+ digits.
 * Expected lines below follow those rules; the golden and oracle tests check whole outputs against the
 * real lspci reading the same sysfs tree.
 */
import { describe, expect, it } from 'vitest';
import { type LspciDevice, runLspci } from '../../src/lab/lspci/index.js';
import { COMMON_ARGS, liveDevices, nodeIo } from './helpers.js';

const run = (args: string[], devices: LspciDevice[] = liveDevices()) =>
  runLspci([...COMMON_ARGS, ...args], devices, nodeIo);
const lines = (args: string[], devices?: LspciDevice[]) => run(args, devices).stdout.split('\n');

describe('live mode', () => {
  it('names a VF from sysfs while its hex dump shows ffff', () => {
    const out = run(['-s', '01:00.1', '-x']).stdout;
    const [head, firstRow] = out.split('\n');
    expect(head).toBe(
      '01:00.1 Ethernet controller: Test Virtio Vendor Virtio network device (test) (rev 01)',
    );
    expect(firstRow!.startsWith('00: ff ff ff ff ')).toBe(true);
  });

  it('shows a VF’s regions as virtual, with sizes, and its driver', () => {
    const vf = lines(['-s', '01:00.1', '-vv']);
    expect(vf).toContain('\tRegion 0: Memory at a00000000 (64-bit, prefetchable) [virtual] [size=16K]');
    expect(vf).toContain('\tRegion 2: Memory at fe900000 (32-bit, non-prefetchable) [virtual] [size=4K]');
    expect(vf).toContain('\tKernel driver in use: vfio-pci');
  });

  it('sizes a PF’s BARs and ROM, but not the VF BARs of its SR-IOV capability', () => {
    const pf = lines(['-s', '01:00.0', '-vv']);
    expect(pf).toContain('\tRegion 4: Memory at 800000000 (64-bit, prefetchable) [size=16K]');
    expect(pf).toContain('\tExpansion ROM at fe800000 [disabled] [size=256K]');
    expect(pf).toContain('\t\tRegion 0: Memory at 0000000a00000000 (64-bit, prefetchable)');
    expect(pf.some((l) => l.startsWith('\tRegion 5'))).toBe(false);
  });

  it('prints a bridge’s kernel windows, with the [32-bit] label of an untyped address', () => {
    const rp = lines(['-s', '00:01.0', '-v']);
    expect(rp).toContain('\tI/O behind bridge: 1000-1fff [size=4K] [16-bit]');
    expect(rp).toContain('\tPrefetchable memory behind bridge: 800000000-80fffffff [size=256M] [32-bit]');
  });

  it('prints driver and modules with -k, dropping a module repeated in a row', () => {
    const devices = liveDevices();
    devices[3]!.sysfs!.modules = ['virtio_pci', 'virtio_pci', 'vfio_pci'];
    expect(lines(['-k', '-s', '01:00.1'], devices)).toEqual([
      '01:00.1 Ethernet controller: Test Virtio Vendor Virtio network device (test) (rev 01)',
      '\tSubsystem: Test Virtio Vendor Test machine NIC',
      '\tKernel driver in use: vfio-pci',
      '\tKernel modules: virtio_pci, vfio_pci',
      '',
    ]);
    expect(lines(['-mm', '-vk', '-s', '01:00.1'], devices).slice(-5)).toEqual([
      'Driver:\tvfio-pci',
      'Module:\tvirtio_pci',
      'Module:\tvfio_pci',
      '',
      '',
    ]);
  });

  it('filters by the sysfs IDs', () => {
    expect(lines(['-n', '-d', '1af4:1041'])).toEqual([
      '01:00.0 0200: 1af4:1041 (rev 01)',
      '01:00.1 0200: 1af4:1041 (rev 01)',
      '',
    ]);
  });

  it('decodes the same device from a dump (no sysfs) with its config-space IDs', () => {
    const dumpOnly = liveDevices().map(({ bdf, config }) => ({ bdf, config }));
    expect(lines(['-n', '-s', '01:00.1'], dumpOnly)[0]).toBe('01:00.1 0200: ffff:ffff (rev 01)');
    expect(lines(['-vv', '-s', '01:00.1'], dumpOnly)).not.toContain(
      '\tRegion 0: Memory at a00000000 (64-bit, prefetchable) [virtual] [size=16K]',
    );
  });

  it('shows only the 64 bytes a non-root read of config returns', () => {
    const acc = lines(['-xxx', '-s', '02:00.0']);
    expect(acc.filter((l) => /^[0-9a-f]{2}: /.test(l)).map((l) => l.slice(0, 2))).toEqual([
      '00',
      '10',
      '20',
      '30',
    ]);
  });

  it('sorts by domain, bus, device, function, and shows domains once any device has one', () => {
    const devices = liveDevices().reverse();
    const moved = { ...devices[0]!, bdf: { domain: 1, bus: 0, devfn: 0 } as LspciDevice['bdf'] };
    const out = lines(['-n'], [moved, ...devices.slice(1)]);
    expect(out.map((l) => l.slice(0, 12))).toEqual([
      '0000:00:00.0',
      '0000:00:01.0',
      '0000:01:00.0',
      '0000:01:00.1',
      '0000:02:00.0',
      '0001:00:00.0',
      '',
    ]);
  });
});
