/**
 * A small /sys built with the sysfs helpers for tests: one root port with one PF that can enable up to
 * 8 VFs, its bus and driver links, and a directory of broken links. The expected values in the tests
 * are written out by hand, not derived from this tree.
 */
import { errnoError } from '../../../src/base/index.js';
import {
  attr,
  dir,
  link,
  type SysfsDir,
  type SysfsNode,
  staticDir,
} from '../../../src/kernel/sysfs/index.js';

export const PF = '0000:01:00.0';
export const VF0 = '0000:01:00.1';
export const PF_DIR = `/sys/devices/pci0000:00/0000:00:01.0/${PF}`;
export const TOTAL_VFS = 8;

export interface FakeTree {
  readonly root: SysfsDir;
  /** Every buffer sriov_numvfs' store received, in order. */
  readonly numvfsWrites: string[];
  /** Every buffer the driver's bind file received. */
  readonly bindWrites: string[];
  numVfs(): number;
}

/** The first 8 bytes of the PF's config space, then zeros: vendor 1af4, device 1041, command 0x0406. */
export const CONFIG_HEAD = [0xf4, 0x1a, 0x41, 0x10, 0x06, 0x04, 0x10, 0x00];

export function fakeTree(): FakeTree {
  let numVfs = 0;
  const numvfsWrites: string[] = [];
  const bindWrites: string[] = [];

  const config = new Uint8Array(256);
  config.set(CONFIG_HEAD);

  const pf = dir(() => {
    const entries: [string, SysfsNode][] = [
      ['vendor', attr({ mode: 0o444, show: () => '0x1af4\n' })],
      ['device', attr({ show: () => '0x1041\n' })],
      ['sriov_totalvfs', attr({ show: () => `${TOTAL_VFS}\n` })],
      [
        'sriov_numvfs',
        attr({
          mode: 0o644,
          show: () => `${numVfs}\n`,
          store: (text) => {
            numvfsWrites.push(text);
            if (!/^\s*\d+\s*$/.test(text))
              throw errnoError('EINVAL', `not a number: ${JSON.stringify(text)}`);
            const n = Number(text);
            if (n > TOTAL_VFS) throw errnoError('ERANGE', `${n} > ${TOTAL_VFS}`);
            numVfs = n;
          },
        }),
      ],
      ['config', attr({ mode: 0o644, sizeBytes: 256, show: () => config.slice() })],
      ['remove', attr({ mode: 0o200, store: () => undefined })],
      [
        'broken',
        attr({
          mode: 0o444,
          show: () => {
            throw errnoError('ENODEV');
          },
        }),
      ],
      ['subsystem', link('../../../../bus/pci')],
      ['driver', link('../../../../bus/pci/drivers/virtio-pci')],
      ['power', staticDir({ control: attr({ mode: 0o644, show: () => 'auto\n', store: () => undefined }) })],
    ];
    for (let i = 0; i < numVfs; i++) entries.push([`virtfn${i}`, link(`../0000:01:00.${i + 1}`)]);
    return entries;
  });

  const vf = (i: number): SysfsDir =>
    staticDir({
      vendor: attr({ show: () => '0x1af4\n' }),
      device: attr({ show: () => '0x1041\n' }),
      physfn: link(`../${PF}`),
      subsystem: link('../../../../bus/pci'),
      [`index`]: attr({ show: () => `${i}\n` }),
    });

  const rootPort = dir(() => {
    const entries: [string, SysfsNode][] = [
      ['vendor', attr({ show: () => '0x8086\n' })],
      [PF, pf],
    ];
    for (let i = 0; i < numVfs; i++) entries.push([`0000:01:00.${i + 1}`, vf(i)]);
    return entries;
  });

  const devicesLinks = dir(() => {
    const entries: [string, SysfsNode][] = [
      ['0000:00:01.0', link('../../../devices/pci0000:00/0000:00:01.0')],
      [PF, link(`../../../devices/pci0000:00/0000:00:01.0/${PF}`)],
    ];
    for (let i = 0; i < numVfs; i++) {
      const bdf = `0000:01:00.${i + 1}`;
      entries.push([bdf, link(`../../../devices/pci0000:00/0000:00:01.0/${bdf}`)]);
    }
    return entries;
  });

  const root = staticDir({
    sys: staticDir({
      devices: staticDir({ 'pci0000:00': staticDir({ '0000:00:01.0': rootPort }) }),
      bus: staticDir({
        pci: staticDir({
          devices: devicesLinks,
          drivers: staticDir({
            'virtio-pci': staticDir({
              bind: attr({ store: (text) => void bindWrites.push(text) }),
              unbind: attr({ mode: 0o200, store: () => undefined }),
              [PF]: link(`../../../../devices/pci0000:00/0000:00:01.0/${PF}`),
            }),
          }),
          rescan: attr({ mode: 0o200, store: () => undefined }),
        }),
      }),
      loop: staticDir({
        a: link('b'),
        b: link('a'),
        self: link('self'),
        dangling: link('nowhere'),
        absolute: link('/sys/bus/pci'),
        'to-file': link(`../devices/pci0000:00/0000:00:01.0/${PF}/vendor`),
        'no-show': attr({ mode: 0o444 }),
      }),
    }),
  });

  return { root, numvfsWrites, bindWrites, numVfs: () => numVfs };
}
