/**
 * The mnic command interface byte for byte, from hand-assembled entries (the layout documented in
 * src/spec/mnic-fw.ts, written out here as numbers): inline commands, output through a DMA mailbox,
 * delivery errors, the dispatcher's check order, and the modeled time each command costs.
 */
import { describe, expect, it } from 'vitest';
import { fnInput, fromHex, hex, PF_RID, pfWindow, raw, rig, SIOV_RID_BASE, u32At } from './rig.js';

describe('mnic init segment', () => {
  it('reads firmware revision 1.0, command interface 1, and the function ids', () => {
    const r = rig();
    const w = pfWindow(r);
    expect(w.read(0x000)).toBe(0x0001_0000);
    expect(w.read(0x004)).toBe(1);
    expect(w.read(0x008)).toBe(0);
    expect(w.read(0x00c)).toBe(0);
  });
});

describe('mnic commands by hand', () => {
  it('QUERY_ESWITCH_MODE inline: opcode 0x111 → status 0, mode 0', () => {
    const r = rig();
    const res = raw(pfWindow(r), fromHex('1101 0000 00000000'), 16);
    expect(res.ctrl).toBe(0x00);
    expect(hex(res.inline.subarray(0, 16))).toBe('00000000000000000000000000000000');
  });

  it('SET_ESWITCH_MODE 1 then QUERY says 1', () => {
    const r = rig();
    const w = pfWindow(r);
    expect(raw(w, fromHex('1001 0000 00000000 01 00000000000000'), 8).status).toBe(0);
    expect(raw(w, fromHex('1101 0000 00000000'), 16).inline[8]).toBe(1);
    expect(raw(w, fromHex('1001 0000 00000000 02 00000000000000'), 8).status).toBe(0x03);
  });

  it('QUERY_HCA_CAP: 64 bytes, the last 32 through an output mailbox block', () => {
    const r = rig();
    const block = 0x10_0000n;
    // Block trailer at +0xfc0: next 0, block number 0 (+0xfc8), token (+0xfcc).
    r.memory.write((block + 0xfc0n) as never, fromHex(`0000000000000000 00000000 77`), 'cpu');
    const res = raw(pfWindow(r), fromHex('0001 0000 00000000'), 64, { outMailbox: block, token: 0x77 });
    expect(res.ctrl).toBe(0);
    // status 0, syndrome 0, pfNum 0, logMinSfSize 1, sfBar 2, maxSfs 4, sfBaseId 0x8000, maxSiovFns 4,
    // siovBaseId 0x10000, siovBar 4 + 3 reserved.
    expect(hex(res.inline)).toBe(
      '00000000 00000000 0000 01 02 04000000 00800000 04000000 00000100 04 000000'.replace(/ /g, ''),
    );
    const rest = r.memory.read((block + 0n) as never, 32);
    // capFlags: migration | eswitch manager | SIOV = 7; totalVfs 8; selfKind 0; fnId 0; vhcaId 0;
    // MAC 02:xx:4d:00:00:00; stateBytes = 32 + 64 + 4096 = 4192 = 0x1060.
    expect(hex(rest.subarray(0, 16))).toBe('07000000 0800 00 00 00000000 00000000'.replace(/ /g, ''));
    expect(rest[16]).toBe(0x02);
    expect(hex(rest.subarray(18, 24))).toBe('4d0000000000');
    expect(u32At(rest, 24)).toBe(0x1060);
  });

  it('ALLOC_SF sfnum 88 → fnId 0x8000, vhcaId 1 + totalVfs; the same sfnum again is BAD_PARAM/SFNUM_IN_USE', () => {
    const r = rig();
    const w = pfWindow(r);
    const res = raw(w, fromHex('2001 0000 00000000 58000000 00000000'), 16);
    expect(hex(res.inline.subarray(0, 16))).toBe('00000000000000000080000009000000');
    const again = raw(w, fromHex('2001 0000 00000000 58000000 00000000'), 16);
    expect([again.status, again.syndrome]).toEqual([0x03, 0x19]);
  });

  it('CREATE_SIOV_FNS 1 fits inline: entry fnId 0x10000, guest and hypervisor RIDs from the pool', () => {
    const r = rig();
    const res = raw(pfWindow(r), fromHex('2201 0000 00000000 01000000 00000000'), 32);
    const rid = (n: number) => hex(Uint8Array.of(n & 0xff, n >> 8));
    expect(hex(res.inline)).toBe(
      `0000000000000000 01000000 00000000 00000100 09000000 ${rid(SIOV_RID_BASE)} ${rid(SIOV_RID_BASE + 1)} 00000000`.replace(
        / /g,
        '',
      ),
    );
  });

  it('CREATE_SIOV_FNS is all or none: 5 of 4 → NO_RESOURCES, then 4 fit', () => {
    const r = rig();
    const w = pfWindow(r);
    const five = raw(w, fromHex('2201 0000 00000000 05000000 00000000'), 16);
    expect([five.status, five.syndrome]).toEqual([0x0f, 0x0a]);
    expect(r.nic.table.siovCount).toBe(0);
    const zero = raw(w, fromHex('2201 0000 00000000 00000000 00000000'), 16);
    expect([zero.status, zero.syndrome]).toEqual([0x03, 0x0b]);
  });
});

describe('mnic dispatcher check order', () => {
  it('unknown opcode → BAD_OP; short input → BAD_INPUT_LEN; short output → BAD_OUTPUT_LEN; state unchanged', () => {
    const r = rig();
    const w = pfWindow(r);
    expect(raw(w, fromHex('ff0f 0000 00000000'), 8).status).toBe(0x02);
    // ALLOC_SF needs 16 input bytes.
    expect(raw(w, fromHex('2001 0000 00000000 5800'), 8).status).toBe(0x50);
    // ALLOC_SF returns 16 bytes.
    const short = raw(w, fromHex('2001 0000 00000000 58000000 00000000'), 8);
    expect([short.status, short.syndrome]).toEqual([0x51, 0x1b]);
    expect(r.nic.table.sfCount).toBe(0);
  });
});

describe('mnic command delivery', () => {
  it('a doorbell without ownership runs nothing', () => {
    const r = rig();
    const w = pfWindow(r);
    const t0 = r.clock.nowNs;
    w.write(0x100, 16);
    w.write(0x104, 16);
    w.write(0x120, 0x0000_0120);
    w.write(0x128, 88);
    w.write(0x018, 1);
    expect(r.nic.table.sfCount).toBe(0);
    expect(r.clock.nowNs - t0).toBe(0);
  });

  it('lengths: input under 8 bytes → delivery status 7, output under 8 → 8', () => {
    const r = rig();
    expect(raw(pfWindow(r), fromHex('0001 0000'), 8).ctrl).toBe(7 << 1);
    expect(raw(pfWindow(r), fromHex('0001 0000 00000000'), 4).ctrl).toBe(8 << 1);
  });

  it('output mailbox faults: misaligned (4), wrong token (2), wrong block number (3)', () => {
    const r = rig();
    const w = pfWindow(r);
    expect(raw(w, fromHex('0001 0000 00000000'), 64, { outMailbox: 0x10_0008n }).ctrl).toBe(4 << 1);
    r.memory.write(0x20_0fc0n as never, fromHex('0000000000000000 00000000 11'), 'cpu');
    expect(raw(w, fromHex('0001 0000 00000000'), 64, { outMailbox: 0x20_0000n, token: 0x22 }).ctrl).toBe(
      2 << 1,
    );
    r.memory.write(0x30_0fc0n as never, fromHex('0000000000000000 01000000 22'), 'cpu');
    expect(raw(w, fromHex('0001 0000 00000000'), 64, { outMailbox: 0x30_0000n, token: 0x22 }).ctrl).toBe(
      3 << 1,
    );
  });

  it('a mailbox DMA the IOMMU refuses is delivery status 5 and runs nothing', () => {
    const r = rig();
    r.iommu.attachDevice(PF_RID as never, r.iommu.blockedDomain);
    const res = raw(pfWindow(r), fromHex('0001 0000 00000000'), 64, { outMailbox: 0x10_0000n });
    expect(res.ctrl).toBe(5 << 1);
  });
});

describe('mnic firmware costs (modeled time)', () => {
  it('an inline command costs exactly firmwareCommandNs, per-device override included', () => {
    const r = rig({ costs: { firmwareCommandNs: 12_345 } });
    const t0 = r.clock.nowNs;
    raw(pfWindow(r), fromHex('1101 0000 00000000'), 16);
    expect(r.clock.nowNs - t0).toBe(12_345);
  });

  it('a refused command costs the same round trip', () => {
    const r = rig({ costs: { firmwareCommandNs: 500 } });
    const t0 = r.clock.nowNs;
    raw(pfWindow(r), fromHex('ff0f 0000 00000000'), 8);
    expect(r.clock.nowNs - t0).toBe(500);
  });

  it('batched SIOV creation and destruction add firmwarePerFunctionNs per function', () => {
    const r = rig({ costs: { firmwareCommandNs: 1_000, firmwarePerFunctionNs: 10 }, maxSiovFns: 8 });
    const w = pfWindow(r);
    const start = r.clock.nowNs;
    raw(w, fromHex('2201 0000 00000000 01000000 00000000'), 32);
    expect(r.clock.nowNs - start).toBe(1_010);
    // Three more, whose output needs a mailbox: check the firmware part by subtracting the DMA.
    const before = r.dma.stats.modeledNs;
    const block = 0x10_0000n;
    r.memory.write((block + 0xfc0n) as never, fromHex('0000000000000000 00000000 5a'), 'cpu');
    const t0 = r.clock.nowNs;
    raw(w, fromHex('2201 0000 00000000 03000000 00000000'), 64, { outMailbox: block });
    expect(r.clock.nowNs - t0 - (r.dma.stats.modeledNs - before)).toBeCloseTo(1_030, 6);
    // Destroy two by id (input 16 + 8 bytes, inline).
    const t1 = r.clock.nowNs;
    const d = raw(w, fromHex('2301 0000 00000000 02000000 00000000 00000100 01000100'), 8);
    expect(d.status).toBe(0);
    expect(r.clock.nowNs - t1).toBe(1_020);
    expect(r.nic.table.siovCount).toBe(2);
  });
});

describe('mnic function ids answer QUERY_VHCA_STATE', () => {
  it('PF is ACTIVE kind 0; a missing function is BAD_RESOURCE/NO_SUCH_FN', () => {
    const r = rig();
    const w = pfWindow(r);
    expect(hex(raw(w, fnInput(0x106, 0), 16).inline.subarray(0, 16))).toBe(
      '00000000000000000200000000000000',
    );
    const none = raw(w, fnInput(0x106, 0x8003), 16);
    expect([none.status, none.syndrome]).toEqual([0x05, 0x03]);
  });
});
