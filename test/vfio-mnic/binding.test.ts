/**
 * Binding rules of the two designs on the real mnic NIC (facts/kernel.md 3.8, 5.5, 6, Appendix B 3-5):
 *
 * - mnic_vfio_pci is override-only: a VF's MODALIAS never resolves to it, so it never autoloads; even
 *   loaded, it binds only when driver_override names it; pci_iov_get_pf_drvdata refuses a PF that is
 *   not bound to mnic_core (then: pass-through without migration); unbinding mnic_core from the PF
 *   disables SR-IOV, which removes mnic_vfio_pci from the VF first and closes its VFIO files.
 * - vfio_mnic_aux autoloads when mnic_core carves "mnic_core.vfio.<n>"; destroying the function
 *   deletes the auxiliary device, which unregisters the vfio_device and closes its files.
 */
import { describe, expect, it } from 'vitest';
import { VfioFdTable } from '../../src/kernel/vfio/core/index.js';
import { Lab } from '../../src/lab/index.js';
import { User } from '../kernel/host-support.js';
import { auxToVfio, sh, vfToVfio } from './nic-flows.js';
import {
  FEATURE_GET,
  FEATURE_MIGRATION,
  featureBytes,
  MNIC_PF,
  neg,
  openVfio,
  VFIO_DEVICE_FEATURE,
  VFIO_DEVICE_SET_IRQS,
  words,
} from './support.js';

const VF = '0000:10:00.1';
const MAC = Uint8Array.from([0x02, 0, 0, 0, 0, 0x11]);

describe('mnic_vfio_pci: the pci_iov_get_pf_drvdata design', () => {
  it('is never autoloaded: the VF MODALIAS resolves to mnic_core only; VFs probe mnic_core', () => {
    const host = Lab.default().host();
    const u = new User(host);
    u.ok(`${u.dev(MNIC_PF)}/sriov_numvfs`, '1\n');
    expect(host.kernel.modules.isLoaded('mnic_vfio_pci')).toBe(false);
    expect(host.kernel.modules.resolve('pci:v00001F00d00001022sv00001F00sd00000001bc02sc00i00')).toEqual([
      'mnic_core',
    ]);
    expect(u.readlink(`${u.dev(VF)}/driver`)).toBe('../../../../bus/pci/drivers/mnic_core');
  });

  it('binds only through driver_override', () => {
    const host = Lab.default().host();
    const u = new User(host);
    u.ok(`${u.dev(MNIC_PF)}/sriov_drivers_autoprobe`, '0\n');
    u.ok(`${u.dev(MNIC_PF)}/sriov_numvfs`, '1\n');
    host.kernel.modules.modprobe('mnic_vfio_pci');
    expect(u.write('/sys/bus/pci/drivers/mnic_vfio_pci/bind', `${VF}\n`)).toBe('ENODEV');
    u.ok('/sys/bus/pci/drivers_probe', `${VF}\n`);
    expect(u.exists(`${u.dev(VF)}/driver`)).toBe(false);
    u.ok(`${u.dev(VF)}/driver_override`, 'mnic_vfio_pci\n');
    u.ok('/sys/bus/pci/drivers/mnic_vfio_pci/bind', `${VF}\n`);
    expect(u.readlink(`${u.dev(VF)}/driver`)).toBe('../../../../bus/pci/drivers/mnic_vfio_pci');
    expect(host.kernel.vfio.find(VF)?.ops.name).toBe('mnic-vfio-pci');
    // The PF, free and overridden: driver_override's "any" id matches (facts 5.6); the probe makes a
    // plain pass-through device (not a VF: no PF data to look up, no migration).
    u.ok('/sys/bus/pci/drivers/mnic_core/unbind', `${MNIC_PF}\n`);
    u.ok(`${u.dev(MNIC_PF)}/driver_override`, 'mnic_vfio_pci\n');
    u.ok('/sys/bus/pci/drivers/mnic_vfio_pci/bind', `${MNIC_PF}\n`);
    const pf = openVfio(host, MNIC_PF);
    expect(
      pf.ioctl(VFIO_DEVICE_FEATURE, featureBytes(FEATURE_GET | FEATURE_MIGRATION, new Uint8Array(8))),
    ).toBe(neg('ENOTTY'));
  });

  it('a PF not bound to mnic_core: pci_iov_get_pf_drvdata refuses, the VF binds without migration', () => {
    const host = Lab.default().host();
    const u = new User(host);
    u.ok('/sys/bus/pci/drivers/mnic_core/unbind', `${MNIC_PF}\n`);
    host.kernel.modules.modprobe('vfio_pci', false, ['enable_sriov=1']);
    u.ok(`${u.dev(MNIC_PF)}/driver_override`, 'vfio-pci\n');
    u.ok('/sys/bus/pci/drivers_probe', `${MNIC_PF}\n`);
    u.ok(`${u.dev(MNIC_PF)}/sriov_drivers_autoprobe`, '0\n');
    u.ok(`${u.dev(MNIC_PF)}/sriov_numvfs`, '1\n');
    host.kernel.modules.modprobe('mnic_vfio_pci');
    u.ok(`${u.dev(VF)}/driver_override`, 'mnic_vfio_pci\n');
    u.ok('/sys/bus/pci/drivers_probe', `${VF}\n`);
    expect(u.readlink(`${u.dev(VF)}/driver`)).toBe('../../../../bus/pci/drivers/mnic_vfio_pci');
    const f = openVfio(host, VF);
    expect(
      f.ioctl(VFIO_DEVICE_FEATURE, featureBytes(FEATURE_GET | FEATURE_MIGRATION, new Uint8Array(8))),
    ).toBe(neg('ENOTTY'));
  });

  it('PF unbind disables SR-IOV first: the VF driver goes, its VFIO files close', () => {
    const host = Lab.default().host();
    const u = new User(host);
    vfToVfio(host, { mac: MAC, migratable: true });
    const fds = new VfioFdTable();
    const f = openVfio(host, VF, fds);
    const req = fds.eventfd();
    expect(f.ioctl(VFIO_DEVICE_SET_IRQS, words(24, 0x24, 4, 0, 1, req.fd))).toBe(0);
    u.ok('/sys/bus/pci/drivers/mnic_core/unbind', `${MNIC_PF}\n`);
    expect(req.eventfd.count).toBe(1);
    expect(f.isOpen).toBe(false);
    expect(host.kernel.vfio.find(VF)).toBeUndefined();
    expect(host.kernel.findPciDevice(VF)).toBeUndefined();
  });
});

describe('vfio_mnic_aux: the auxiliary-device design', () => {
  it.each(['sf', 'siov'] as const)(
    '%s: autoloads for mnic_core.vfio; destroy closes files and unregisters',
    (kind) => {
      const host = Lab.default().host();
      const k = host.kernel;
      expect(k.modules.isLoaded('vfio_mnic_aux')).toBe(false);
      const name = auxToVfio(host, kind, { mac: MAC, migratable: true });
      expect(name).toMatch(/^mnic_core\.vfio\.\d+$/);
      expect(k.modules.isLoaded('vfio_mnic_aux')).toBe(true);
      expect(k.modules.isLoaded('mnic_vfio_pci')).toBe(false);
      expect(k.core.findDevice('auxiliary', name)?.driver?.name).toBe('vfio_mnic_aux.vfio');
      const fds = new VfioFdTable();
      const f = openVfio(host, name, fds);
      const req = fds.eventfd();
      expect(f.ioctl(VFIO_DEVICE_SET_IRQS, words(24, 0x24, 4, 0, 1, req.fd))).toBe(0);

      const p = k.functions.find('pci', MNIC_PF)!;
      p.destroy(p.list().map((x) => x.id));
      k.settle();
      expect(req.eventfd.count).toBe(1);
      expect(f.isOpen).toBe(false);
      expect(k.vfio.find(name)).toBeUndefined();
      expect(k.core.findDevice('auxiliary', name)).toBeUndefined();
    },
  );

  it('devlink SF with sf_enable_vfio: the SF driver carves the piece (two levels); state inactive removes it', () => {
    const host = Lab.default().host();
    const pf = `pci/${MNIC_PF}`;
    sh(host, `devlink dev eswitch set ${pf} mode switchdev`);
    sh(host, `devlink dev param set ${pf} name sf_enable_vfio value true cmode runtime`);
    sh(host, `devlink port add ${pf} flavour pcisf pfnum 0 sfnum 88`);
    // First SF port: (vhca_id 0 << 16) | vport 0x8000 (facts/kernel.md 7.3).
    sh(host, `devlink port function set ${pf}/32768 state active`);
    const k = host.kernel;
    const vfio = k.vfio.devices.find((d) => d.ops.name === 'vfio-mnic-aux');
    expect(vfio).toBeDefined();
    // The piece hangs below the SF's own auxiliary device, not below the PF.
    expect(vfio!.dev.parent?.name).toMatch(/^mnic_core\.sf\.\d+$/);
    const f = openVfio(host, vfio!.dev.name);
    sh(host, `devlink port function set ${pf}/32768 state inactive`);
    expect(f.isOpen).toBe(false);
    expect(k.vfio.devices.filter((d) => d.ops.name === 'vfio-mnic-aux')).toEqual([]);
  });

  it('unbinding mnic_core from the PF deletes every piece first (the parent owns the lifetime)', () => {
    const host = Lab.default().host();
    const u = new User(host);
    const name = auxToVfio(host, 'siov', { mac: MAC, migratable: true });
    const f = openVfio(host, name);
    u.ok('/sys/bus/pci/drivers/mnic_core/unbind', `${MNIC_PF}\n`);
    expect(f.isOpen).toBe(false);
    expect(host.kernel.vfio.find(name)).toBeUndefined();
  });
});
