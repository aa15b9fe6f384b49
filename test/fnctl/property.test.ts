/**
 * Property: a random CREATE (kind, count, driver, optional migratable) on the default host's virtio PF
 * either succeeds completely — exactly `count` VFs, each bound as the driver asks, listed by GET — or
 * is refused with nothing changed (the snapshot of devices, bindings, overrides, VFIO devices, the
 * provider's list and the PF's sysfs files is identical). After a success, DESTROY all brings the host
 * back to the snapshot taken before the create. The same property on the NIC (switchdev, so every kind
 * can succeed), with an optional MAC, while its provider is registered.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nla } from '../../src/kernel/index.js';
import { fnctl as F } from '../../src/spec/index.js';
import { createReq, fnHost, PF, snapshot } from './support.js';

const BOUND: Readonly<Record<number, string | undefined>> = {
  [F.FNCTL_DRIVER_NONE]: undefined,
  [F.FNCTL_DRIVER_VFIO]: 'virtio-vfio-pci',
  [F.FNCTL_DRIVER_NET]: 'virtio-pci',
};

describe('fnctl property', () => {
  it('random requests fully succeed or change nothing', () => {
    const h = fnHost();
    const handle = [nla.string(F.FNCTL_ATTR_BUS_NAME, 'pci'), nla.string(F.FNCTL_ATTR_DEV_NAME, PF)];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4 }),
        fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constantFrom(1024, 1025, 65535, 65536)),
        fc.integer({ min: 0, max: 4 }),
        fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
        (kind, count, driver, mig) => {
          const before = h.snapshot();
          const extra = mig === undefined ? [] : [nla.u8(F.FNCTL_ATTR_MIGRATABLE, mig)];
          const r = h.client.call(F.FNCTL_CMD_CREATE, createReq({ kind, count, driver, extra }));
          if (!r.ok) {
            expect(r.extack).toBeTruthy();
            expect(h.snapshot()).toEqual(before);
            return;
          }
          // Success is only possible for what the virtio PF can do.
          expect(kind).toBe(F.FNCTL_KIND_VF);
          expect(count).toBeGreaterThanOrEqual(1);
          expect(count).toBeLessThanOrEqual(1024);
          const fns = h.k.functions.find('pci', PF)!.list();
          expect(fns.map((f) => f.id)).toEqual(Array.from({ length: count }, (_, i) => i));
          for (const f of fns) expect(h.k.findPciDevice(f.devName)?.driver?.name).toBe(BOUND[driver]);
          const listed = h.client.call(F.FNCTL_CMD_GET, handle);
          expect(
            listed.ok &&
              listed.replies.flatMap((m) => m.attrs.filter((a) => a.type === F.FNCTL_ATTR_FUNCTION)).length,
          ).toBe(count);
          expect(h.client.call(F.FNCTL_CMD_DESTROY, [...handle, nla.flag(F.FNCTL_ATTR_ALL)]).ok).toBe(true);
          const after = h.snapshot() as Record<string, unknown>;
          expect(after).toEqual(before);
        },
      ),
      { numRuns: 60, seed: 6 },
    );
  });
});

const NIC = '0000:10:00.0';

describe.skipIf(fnHost().k.functions.find('pci', NIC) === undefined)('fnctl property on the NIC', () => {
  it('random (kind, count, driver, mac) requests fully succeed or change nothing; destroy all undoes', () => {
    const h = fnHost();
    expect(h.sh(`devlink dev eswitch set pci/${NIC} mode switchdev`).status).toBe(0);
    const handle = [nla.string(F.FNCTL_ATTR_BUS_NAME, 'pci'), nla.string(F.FNCTL_ATTR_DEV_NAME, NIC)];
    const p = h.k.functions.find('pci', NIC)!;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4 }),
        fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constantFrom(128, 129, 300)),
        fc.integer({ min: 0, max: 4 }),
        fc.boolean(),
        (kind, count, driver, withMac) => {
          const before = snapshot(h.k);
          const extra = withMac ? [nla.binary(F.FNCTL_ATTR_MAC, Uint8Array.from([2, 0, 0, 0, 0x30, 0]))] : [];
          const r = h.client.call(F.FNCTL_CMD_CREATE, [
            ...handle,
            nla.u8(F.FNCTL_ATTR_KIND, kind),
            nla.u32(F.FNCTL_ATTR_COUNT, count),
            nla.u8(F.FNCTL_ATTR_DRIVER, driver),
            ...extra,
          ]);
          if (!r.ok) {
            expect(r.extack).toBeTruthy();
            expect(snapshot(h.k)).toEqual(before);
            return;
          }
          const fns = p.list();
          expect(fns).toHaveLength(count);
          expect(new Set(fns.map((f) => f.kind)).size).toBe(1);
          expect(h.client.call(F.FNCTL_CMD_DESTROY, [...handle, nla.flag(F.FNCTL_ATTR_ALL)]).ok).toBe(true);
          expect(snapshot(h.k)).toEqual(before);
        },
      ),
      { numRuns: 40, seed: 6 },
    );
  });
});
