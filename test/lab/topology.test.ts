/** Topology files: parsing, and errors that name the offending path and value. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_TOPOLOGY, parseTopology, validateTopology } from '../../src/lab/index.js';

const base = () =>
  structuredClone(DEFAULT_TOPOLOGY) as { hosts: Record<string, unknown>[] } & Record<string, unknown>;

function errorOf(raw: unknown): string {
  try {
    validateTopology(raw, 'topo.yaml');
  } catch (e) {
    return (e as Error).message;
  }
  return '(no error)';
}

describe('topology files', () => {
  it('accepts the default topology and YAML with hex numbers', () => {
    expect(validateTopology(DEFAULT_TOPOLOGY, 'default').hosts).toHaveLength(2);
    const t = parseTopology(
      `hosts:
  - name: a
    rootPorts:
      - name: rp
        address: "00:01.0"
        secondaryBus: 0x10
        subordinateBus: "0x12"
        devices:
          - { kind: mnic, name: nic, address: "10:00.0", numVfs: 2 }
`,
      'a.yaml',
    );
    expect(t.hosts[0]!.rootPorts[0]!.secondaryBus).toBe(16);
    expect(t.hosts[0]!.rootPorts[0]!.subordinateBus).toBe(18);
  });

  it('names the path and value of an unknown device kind', () => {
    const t = base();
    (t.hosts[0] as any).rootPorts[1].devices[0].kind = 'gpu';
    const msg = errorOf(t);
    expect(msg).toContain('topo.yaml: hosts[0].rootPorts[1].devices[0].kind');
    expect(msg).toContain('"gpu"');
  });

  it('rejects IDs and bus numbers out of range', () => {
    const t = base();
    (t.hosts[0] as any).rootPorts[0].subordinateBus = 256;
    expect(errorOf(t)).toMatch(/hosts\[0\]\.rootPorts\[0\]\.subordinateBus: must be <= 255 \(got 256\)/);
    const u = base();
    (u.hosts[0] as any).rootPorts[0].devices[0].totalVfs = 70000;
    expect(errorOf(u)).toContain('hosts[0].rootPorts[0].devices[0].totalVfs');
  });

  it('rejects overlapping bus ranges and duplicate addresses', () => {
    const t = base();
    (t.hosts[0] as any).rootPorts[1].secondaryBus = 5;
    expect(errorOf(t)).toContain(
      'hosts[0].rootPorts[1]: bus range 05-1f overlaps topo.yaml: hosts[0].rootPorts[0] (01-08)',
    );
    const u = base();
    (u.hosts[0] as any).rootPorts[1].address = '00:01.0';
    expect(errorOf(u)).toContain('hosts[0].rootPorts[1].address: address 00:01.0 overlaps');
  });

  it('rejects a device off its port secondary bus, and device != 0 without ARI', () => {
    const t = base();
    (t.hosts[0] as any).rootPorts[0].devices[0].address = '02:00.0';
    expect(errorOf(t)).toContain("devices[0].address: '02:00.0' is not on the port's secondary bus 01");
    const u = base();
    (u.hosts[0] as any).rootPorts[2].devices[0].address = '20:01.0';
    expect(errorOf(u)).toContain('without ARI only device 00 is reachable');
  });

  it('rejects VF slots that collide with another function', () => {
    const t = base();
    (t.hosts[0] as any).rootPorts[0].devices.push({ kind: 'mnic', name: 'nic2', address: '01:00.2' });
    expect(errorOf(t)).toContain(
      'devices[1].address: address 01:00.2 overlaps topo.yaml: hosts[0].rootPorts[0].devices[0].totalVfs',
    );
  });

  it('rejects unknown keys, duplicate names, and numVfs beyond the bus range', () => {
    const t = base();
    (t.hosts[0] as any).colour = 'blue';
    expect(errorOf(t)).toContain('colour');
    const u = base();
    (u.hosts[1] as any).name = 'host0';
    expect(errorOf(u)).toContain("hosts[1].name: 'host0' is already used by hosts[0]");
    const v = base();
    (v.hosts[0] as any).rootPorts[0].subordinateBus = 2;
    (v.hosts[0] as any).rootPorts[0].devices[0].numVfs = 1000;
    expect(errorOf(v)).toContain('numVfs: 1000 VFs reach bus 04');
  });

  it('reports malformed YAML without throwing anything but a typed error', () => {
    expect(() => parseTopology('hosts: [', 'bad.yaml')).toThrow(/bad.yaml: not valid YAML or JSON/);
    expect(() => parseTopology('42', 'n.yaml')).toThrow(/n.yaml: \(top level\)/);
  });
});
