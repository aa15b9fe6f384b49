/**
 * The fnctl family on the default topology's multi-subsystem NIC (pci/0000:10:00.0), through the `fn`
 * tool: SIOV functions straight to VFIO (each with a guest and a hypervisor RID, an auxiliary VFIO
 * device per function, no SF driver in between), subfunctions (switchdev only) to VFIO and to none,
 * MACs handed out in sequence, a subset destroyed, and the NIC's refusals with nothing changed.
 */
import { describe, expect, it } from 'vitest';
import { fnHost } from './support.js';

const NIC = 'pci/0000:10:00.0';

function nicHost() {
  const h = fnHost();
  return h.k.functions.find('pci', '0000:10:00.0') === undefined ? undefined : h;
}

/** Skipped (and reported as skipped) while the NIC's driver does not register a provider. */
const nicReady = nicHost() !== undefined;

function mustNicHost() {
  const h = nicHost();
  if (h === undefined) throw new Error('the NIC is not a function parent');
  return h;
}

describe.skipIf(!nicReady)('NIC: SIOV and SF through fnctl', () => {
  it('caps list vf, sf and siov with their drivers', () => {
    const h = mustNicHost();
    const caps = JSON.parse(h.sh(`fn caps ${NIC} -j`).out) as {
      caps: Record<string, { kind: string; drivers: string[] }[]>;
    };
    expect(caps.caps[NIC]!.map((c) => [c.kind, c.drivers])).toEqual([
      ['vf', ['vfio', 'net', 'none']],
      ['sf', ['vfio', 'net', 'vdpa', 'none']],
      ['siov', ['vfio', 'none']],
    ]);
  });

  it('siov with vfio: one auxiliary VFIO device per function, guest and hypervisor RIDs, MACs in sequence', () => {
    const h = mustNicHost();
    const r = h.sh(`fn -j create ${NIC} kind siov count 3 driver vfio mac 02:00:00:00:10:00 migratable on`);
    expect(r.err).toBe('');
    const fns = (JSON.parse(r.out) as { function: Record<string, Record<string, unknown>> }).function;
    const list = Object.values(fns);
    expect(list).toHaveLength(3);
    expect(list.map((f) => f['mac'])).toEqual([
      '02:00:00:00:10:00',
      '02:00:00:00:10:01',
      '02:00:00:00:10:02',
    ]);
    for (const f of list) {
      expect(f['kind']).toBe('siov');
      expect(f['driver']).toBe('vfio');
      expect(f['migratable']).toBe(true);
      expect(f['dev']).toMatch(/^mnic_core\.vfio\.\d+$/);
      expect(f['rid']).toMatch(/^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/);
      expect(f['hv_rid']).toMatch(/^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/);
      expect(f['hv_rid']).not.toBe(f['rid']);
      expect(h.k.core.findDevice('auxiliary', f['dev'] as string)?.driver).toBeDefined();
    }
    // No SF driver came in between: the only auxiliary devices are the VFIO ones.
    expect(h.k.core.devices('auxiliary').filter((d) => d.name.startsWith('mnic_core.sf.'))).toEqual([]);
    const ids = Object.keys(fns).map((k) => k.slice(NIC.length + 1));
    expect(h.sh(`fn del ${NIC} id ${ids[1]}`).status).toBe(0);
    expect(Object.keys(JSON.parse(h.sh(`fn show ${NIC} -j`).out).function)).toEqual([
      `${NIC}/${ids[0]}`,
      `${NIC}/${ids[2]}`,
    ]);
    expect(h.sh(`fn del ${NIC} all`).status).toBe(0);
    expect(h.k.core.devices('auxiliary').filter((d) => d.name.startsWith('mnic_core.vfio.'))).toEqual([]);
  });

  it('sf needs switchdev (EOPNOTSUPP, nothing changes); in switchdev, sf with vfio and none', () => {
    const h = mustNicHost();
    const before = h.snapshot();
    const refused = h.sh(`fn create ${NIC} kind sf count 2 driver vfio`);
    expect(refused.status).toBe(1);
    expect(refused.err).toMatch(/switchdev/);
    expect(refused.err).toMatch(/kernel answers: Operation not supported\n$/);
    expect(h.snapshot()).toEqual(before);
    expect(h.sh(`devlink dev eswitch set ${NIC} mode switchdev`).status).toBe(0);
    const made = h.sh(`fn -j create ${NIC} kind sf count 2 driver vfio`);
    expect(made.err).toBe('');
    const fns = Object.values(
      (JSON.parse(made.out) as { function: Record<string, Record<string, unknown>> }).function,
    );
    expect(fns.map((f) => [f['kind'], f['driver']])).toEqual([
      ['sf', 'vfio'],
      ['sf', 'vfio'],
    ]);
    const none = h.sh(`fn -j create ${NIC} kind sf count 1 driver none`);
    expect(none.err).toBe('');
    expect(h.sh(`fn del ${NIC} all`).status).toBe(0);
    expect(JSON.parse(h.sh(`fn show ${NIC} -j`).out)).toEqual({ function: {} });
  });

  it('a driver that does not fit the kind: siov with net is EINVAL before the NIC is asked', () => {
    const h = mustNicHost();
    const before = h.snapshot();
    expect(h.sh(`fn create ${NIC} kind siov count 2 driver net`).err).toBe(
      'Error: driver net does not fit kind siov on pci/0000:10:00.0 (fits: vfio, none).\n' +
        'kernel answers: Invalid argument\n',
    );
    expect(h.snapshot()).toEqual(before);
  });

  it('vf with vfio loads mnic_vfio_pci on request (request_module) and binds each VF to it', () => {
    const h = mustNicHost();
    expect(h.k.modules.isLoaded('mnic_vfio_pci')).toBe(false);
    const r = h.sh(`fn -j create ${NIC} kind vf count 2 driver vfio`);
    expect(r.err).toBe('');
    const fns = Object.values(
      (JSON.parse(r.out) as { function: Record<string, Record<string, unknown>> }).function,
    );
    expect(fns.map((f) => f['dev'])).toEqual(['0000:10:00.1', '0000:10:00.2']);
    for (const f of fns) {
      expect(h.k.core.findDevice('pci', f['dev'] as string)?.driver?.name).toBe('mnic_vfio_pci');
    }
    expect(h.k.modules.isLoaded('mnic_vfio_pci')).toBe(true);
  });
});
