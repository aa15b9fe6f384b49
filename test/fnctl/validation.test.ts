/**
 * The creation API's refusals (docs/creation-api.md "Errors"): each bad CREATE, DESTROY or GET gets
 * its errno, its extended-ack text and, where an attribute is at fault, its offset (written by hand:
 * nlmsghdr 16 + genlmsghdr 4 = 20, then BUS_NAME "pci" 8 bytes, DEV_NAME "0000:01:00.0" 20 bytes, so
 * KIND sits at 48, COUNT at 56, DRIVER at 64, the next attribute at 72). After each refusal the host
 * is exactly as before: PCI devices, bindings, overrides, VFIO devices, the provider's list, sysfs.
 */
import { describe, expect, it } from 'vitest';
import { nla } from '../../src/kernel/index.js';
import { Errno } from '../../src/spec/errno.js';
import { fnctl as F } from '../../src/spec/index.js';
import { createReq, fnHost, PF } from './support.js';

const h = fnHost();

interface Case {
  readonly name: string;
  readonly attrs: Parameters<typeof createReq>[0];
  readonly errno: keyof typeof Errno;
  readonly extack: string;
  readonly offset?: number;
}

const mac = (...b: number[]) => nla.binary(F.FNCTL_ATTR_MAC, Uint8Array.from(b));

const CREATE_CASES: readonly Case[] = [
  { name: 'missing kind', attrs: { count: 1 }, errno: 'EINVAL', extack: 'missing attribute kind' },
  { name: 'missing count', attrs: { kind: 1 }, errno: 'EINVAL', extack: 'missing attribute count' },
  {
    name: 'kind 0',
    attrs: { kind: 0, count: 1 },
    errno: 'EINVAL',
    extack: 'unknown function kind 0',
    offset: 48,
  },
  {
    name: 'kind 7',
    attrs: { kind: 7, count: 1 },
    errno: 'EINVAL',
    extack: 'unknown function kind 7',
    offset: 48,
  },
  {
    name: 'count 0',
    attrs: { kind: 1, count: 0 },
    errno: 'ERANGE',
    extack: 'count 0 out of range 1..65535',
    offset: 56,
  },
  {
    name: 'count 65536',
    attrs: { kind: 1, count: 65536 },
    errno: 'ERANGE',
    extack: 'count 65536 out of range 1..65535',
    offset: 56,
  },
  {
    name: 'count above capacity',
    attrs: { kind: 1, count: 1025 },
    errno: 'ENOSPC',
    extack: 'count 1025 exceeds the capacity of pci/0000:01:00.0 for vf functions (1024)',
    offset: 56,
  },
  {
    name: 'driver 9',
    attrs: { kind: 1, count: 1, driver: 9 },
    errno: 'EINVAL',
    extack: 'unknown driver 9',
    offset: 64,
  },
  {
    name: 'vdpa does not fit vf',
    attrs: { kind: 1, count: 1, driver: F.FNCTL_DRIVER_VDPA },
    errno: 'EINVAL',
    extack: 'driver vdpa does not fit kind vf on pci/0000:01:00.0 (fits: vfio, net, none)',
    offset: 64,
  },
  {
    name: 'sf on the virtio PF',
    attrs: { kind: F.FNCTL_KIND_SF, count: 1 },
    errno: 'EOPNOTSUPP',
    extack: 'pci/0000:01:00.0 cannot create sf functions (kinds: vf)',
    offset: 48,
  },
  {
    name: 'siov on the virtio PF',
    attrs: { kind: F.FNCTL_KIND_SIOV, count: 1, driver: 1 },
    errno: 'EOPNOTSUPP',
    extack: 'pci/0000:01:00.0 cannot create siov functions (kinds: vf)',
    offset: 48,
  },
  {
    name: 'a 5-byte MAC',
    attrs: { kind: 1, count: 1, driver: 0, extra: [mac(2, 0, 0, 0, 1)] },
    errno: 'EINVAL',
    extack: 'mac must be 6 bytes, got 5',
    offset: 72,
  },
  {
    name: 'a multicast MAC',
    attrs: { kind: 1, count: 1, driver: 0, extra: [mac(1, 0, 0x5e, 0, 0, 1)] },
    errno: 'EINVAL',
    extack: 'mac must be unicast',
    offset: 72,
  },
  {
    name: 'a zero MAC',
    attrs: { kind: 1, count: 1, driver: 0, extra: [mac(0, 0, 0, 0, 0, 0)] },
    errno: 'EINVAL',
    extack: 'mac must not be zero',
    offset: 72,
  },
  {
    name: 'a MAC range past the low 24 bits',
    attrs: { kind: 1, count: 2, driver: 0, extra: [mac(2, 0, 0, 0xff, 0xff, 0xff)] },
    errno: 'EINVAL',
    extack: 'mac range of 2 overflows the low 24 bits',
    offset: 72,
  },
  {
    name: 'a MAC on the virtio PF',
    attrs: { kind: 1, count: 1, driver: 0, extra: [mac(2, 0, 0, 0, 0, 1)] },
    errno: 'EOPNOTSUPP',
    extack: 'virtio admin commands cannot provision a VF MAC',
    offset: 72,
  },
  {
    name: 'migratable 2',
    attrs: { kind: 1, count: 1, driver: 0, extra: [nla.u8(F.FNCTL_ATTR_MIGRATABLE, 2)] },
    errno: 'ERANGE',
    extack: 'migratable must be 0 or 1, got 2',
    offset: 72,
  },
  {
    name: 'an unknown attribute type',
    attrs: { kind: 1, count: 1, driver: 0, extra: [nla.u32(40, 1)] },
    errno: 'EINVAL',
    extack: 'Unknown attribute type 40',
    offset: 72,
  },
];

function expectRefused(
  r: ReturnType<typeof h.client.call>,
  errno: keyof typeof Errno,
  extack: string | undefined,
  offset?: number,
): void {
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect({ errno: r.errno, extack: r.extack, offset: r.badAttrOffset }).toEqual({
    errno: Errno[errno],
    extack,
    offset,
  });
}

describe('CREATE validation', () => {
  for (const c of CREATE_CASES) {
    it(`${c.name}: ${c.errno}, nothing changes`, () => {
      const before = h.snapshot();
      expectRefused(h.client.call(F.FNCTL_CMD_CREATE, createReq(c.attrs)), c.errno, c.extack, c.offset);
      expect(h.snapshot()).toEqual(before);
    });
  }

  it('an unknown parent is ENODEV at DEV_NAME', () => {
    const before = h.snapshot();
    const r = h.client.call(F.FNCTL_CMD_CREATE, [
      nla.string(F.FNCTL_ATTR_BUS_NAME, 'pci'),
      nla.string(F.FNCTL_ATTR_DEV_NAME, '0000:09:00.0'),
      nla.u8(F.FNCTL_ATTR_KIND, 1),
      nla.u32(F.FNCTL_ATTR_COUNT, 1),
    ]);
    expectRefused(r, 'ENODEV', 'pci/0000:09:00.0 is not a function parent', 28);
    expect(h.snapshot()).toEqual(before);
  });

  it('missing handle attributes are EINVAL', () => {
    const r = h.client.call(F.FNCTL_CMD_CREATE, [
      nla.u8(F.FNCTL_ATTR_KIND, 1),
      nla.u32(F.FNCTL_ATTR_COUNT, 1),
    ]);
    expectRefused(r, 'EINVAL', 'missing attribute bus-name');
  });

  it('a COUNT of the wrong width fails policy validation: EINVAL at its offset, no extack', () => {
    const before = h.snapshot();
    const r = h.client.call(F.FNCTL_CMD_CREATE, [...createReq({ kind: 1 }), nla.u16(F.FNCTL_ATTR_COUNT, 1)]);
    expectRefused(r, 'EINVAL', undefined, 56);
    expect(h.snapshot()).toEqual(before);
  });

  it('while VFs exist (made through sysfs), CREATE is EBUSY and capacity is 0', () => {
    const k = h.k;
    k.sysfs.write(`/sys/bus/pci/devices/${PF}/sriov_numvfs`, '2\n');
    k.settle();
    try {
      const before = h.snapshot();
      expectRefused(
        h.client.call(F.FNCTL_CMD_CREATE, createReq({ kind: 1, count: 1, driver: 1 })),
        'EBUSY',
        'pci/0000:01:00.0 already has 2 VFs; SR-IOV is enabled once, destroy all first',
        56,
      );
      expect(h.snapshot()).toEqual(before);
      expect(k.functions.find('pci', PF)!.capacity('vf')).toBe(0);
    } finally {
      k.sysfs.write(`/sys/bus/pci/devices/${PF}/sriov_numvfs`, '0\n');
    }
  });
});

describe('DESTROY and GET validation', () => {
  const handle = [nla.string(F.FNCTL_ATTR_BUS_NAME, 'pci'), nla.string(F.FNCTL_ATTR_DEV_NAME, PF)];

  it('neither ids nor all, both, unknown ids, duplicates, a subset: refused, nothing changes', () => {
    const ok = h.client.call(F.FNCTL_CMD_CREATE, createReq({ kind: 1, count: 3, driver: 0 }));
    expect(ok.ok).toBe(true);
    const before = h.snapshot();
    const id = (n: number) => nla.u32(F.FNCTL_ATTR_ID, n);
    const del = (attrs: ReturnType<typeof nla.flag>[]) =>
      h.client.call(F.FNCTL_CMD_DESTROY, [...handle, ...attrs]);
    expectRefused(del([]), 'EINVAL', 'missing attribute id (or all)');
    expectRefused(del([id(0), nla.flag(F.FNCTL_ATTR_ALL)]), 'EINVAL', 'give ids or all, not both', 56);
    expectRefused(del([id(9)]), 'ENOENT', 'function 9 does not exist on pci/0000:01:00.0', 48);
    expectRefused(del([id(1), id(1)]), 'EINVAL', 'function 1 given twice', 48);
    expectRefused(
      del([id(0), id(2)]),
      'EOPNOTSUPP',
      'SR-IOV VFs of pci/0000:01:00.0 are destroyed all at once (destroy all)',
      48,
    );
    expect(h.snapshot()).toEqual(before);
    // Every id, in any order, is "all".
    expect(del([id(2), id(0), id(1)]).ok).toBe(true);
    expect(h.k.functions.find('pci', PF)!.list()).toEqual([]);
    // Destroying all of nothing succeeds and changes nothing.
    expect(del([nla.flag(F.FNCTL_ATTR_ALL)]).ok).toBe(true);
  });

  it('GET and CAPS_GET of an unknown parent are ENODEV', () => {
    const nowhere = [
      nla.string(F.FNCTL_ATTR_BUS_NAME, 'auxiliary'),
      nla.string(F.FNCTL_ATTR_DEV_NAME, 'x.y.0'),
    ];
    const msg = 'auxiliary/x.y.0 is not a function parent';
    // "auxiliary" + NUL = 10 bytes, nla_len 14, padded to 16: DEV_NAME at 20 + 16 = 36.
    expectRefused(h.client.call(F.FNCTL_CMD_GET, nowhere), 'ENODEV', msg, 36);
    expectRefused(h.client.call(F.FNCTL_CMD_CAPS_GET, nowhere), 'ENODEV', msg, 36);
    expectRefused(
      h.client.call(F.FNCTL_CMD_GET, [...handle, nla.u32(F.FNCTL_ATTR_ID, 0)]),
      'ENOENT',
      'function 0 does not exist on pci/0000:01:00.0',
      48,
    );
  });

  it('an unknown command is EOPNOTSUPP', () => {
    expectRefused(h.client.call(9, handle), 'EOPNOTSUPP', undefined);
  });
});
