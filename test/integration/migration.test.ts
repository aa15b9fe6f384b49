/**
 * Scenario 3 (issue 4 "Done means"): a VF's state moves to a VF of another PF through device parts,
 * driven by the kernel's virtio_pci_admin API in the order of facts 4.7 (Linux's vfio virtio
 * migrate.c): on the source, DEV_MODE_SET(stop), RESOURCE_OBJ_CREATE(GET), METADATA_GET(SIZE),
 * DEV_PARTS_GET(ALL), RESOURCE_OBJ_DESTROY; on the destination, DEV_MODE_SET(stop),
 * RESOURCE_OBJ_CREATE(SET), DEV_PARTS_SET, RESOURCE_OBJ_DESTROY, DEV_MODE_SET(resume). The hypervisor
 * keeps guest memory where it is and restores the Command register and the MSI-X table itself. The
 * same modern guest driver continues: nothing sent is lost or duplicated, receiving continues.
 */
import { describe, expect, it } from 'vitest';
import {
  virtioPciAdminDevPartsGet,
  virtioPciAdminDevPartsMetadataGet,
  virtioPciAdminDevPartsSet,
  virtioPciAdminModeSet,
  virtioPciAdminObjCreate,
  virtioPciAdminObjDestroy,
} from '../../src/kernel/index.js';
import {
  DEFAULT_COSTS,
  EXTERNAL_HOST,
  FabricVfAccess,
  frame,
  Guest,
  PF1,
  PF2,
  pfModel,
  S,
  tagOf,
  twoPfHost,
  vfTarget,
} from './support.js';

// Facts 3.11, 3.12, 4.4: object type DEV_PARTS 0; operation GET 0 / SET 1; metadata SIZE 0; get ALL 1.
const OBJ_DEV_PARTS = 0;
const OP_GET = 0;
const OP_SET = 1;
const METADATA_SIZE = 0;
const GET_ALL = 1;
const MODE_STOPPED = 1;
const MODE_RUNNING = 0;

describe('device-parts migration across two PFs through the kernel admin API', () => {
  it('the guest continues on VF b of PF 2 with every frame exactly once', () => {
    const host = twoPfHost(2);
    const k = host.kernel;
    const pf1 = pfModel(host, PF1);
    const pf2 = pfModel(host, PF2);
    const a = vfTarget(host, PF1, 1);
    const b = vfTarget(host, PF2, 2);
    const access = new FabricVfAccess(host, a);
    const g = new Guest(host, 0);
    g.init('modern', access);
    const mac = g.driver.mac;
    const sent: number[] = [];
    const send = (tag: number) => {
      g.driver.send(frame(EXTERNAL_HOST, mac, tag, 64 + tag));
      sent.push(tag);
    };

    // Running on a: frames out, frames in; the completions of 4 and 5 are left unreaped.
    for (const t of [1, 2, 3]) send(t);
    g.service();
    for (const t of [101, 102]) pf1.injectExternal(frame(mac, EXTERNAL_HOST, t));
    g.service();
    send(4);
    send(5);
    const ext1 = pf1.readExternal();
    expect(ext1.map(tagOf)).toEqual([1, 2, 3, 4, 5]);

    // Source: stop, then the guest keeps transmitting: kicks are accepted, nothing moves.
    const m0 = host.clock.nowNs;
    virtioPciAdminModeSet(k, a.dev, MODE_STOPPED);
    send(6);
    send(7);
    expect(pf1.readExternal()).toEqual([]);
    expect(pf1.stats().vfs.get(1)!.tx_packets).toBe(5);
    const getId = virtioPciAdminObjCreate(k, a.dev, OBJ_DEV_PARTS, OP_GET);
    const size = virtioPciAdminDevPartsMetadataGet(k, a.dev, OBJ_DEV_PARTS, getId, METADATA_SIZE);
    expect(size).toBeGreaterThan(0);
    const image = virtioPciAdminDevPartsGet(k, a.dev, OBJ_DEV_PARTS, getId, GET_ALL, size);
    expect(image.resSizeBytes).toBe(size);
    virtioPciAdminObjDestroy(k, a.dev, OBJ_DEV_PARTS, getId);

    // Destination: stop, create a SET object, SET {obj hdr(type 0, id), parts...}, destroy.
    virtioPciAdminModeSet(k, b.dev, MODE_STOPPED);
    const setId = virtioPciAdminObjCreate(k, b.dev, OBJ_DEV_PARTS, OP_SET);
    const data = new Uint8Array(8 + image.parts.length);
    data[0] = OBJ_DEV_PARTS;
    new DataView(data.buffer).setUint32(4, setId, true);
    data.set(image.parts, 8);
    virtioPciAdminDevPartsSet(k, b.dev, data);
    virtioPciAdminObjDestroy(k, b.dev, OBJ_DEV_PARTS, setId);
    // Nine admin commands so far, each at least adminCommandNs of modeled time.
    expect(host.clock.nowNs - m0).toBeGreaterThanOrEqual(9 * DEFAULT_COSTS.adminCommandNs);
    // ...and not much more: the DMA of a command's buffers is small next to the command itself.
    expect(host.clock.nowNs - m0).toBeLessThan(9 * 2 * DEFAULT_COSTS.adminCommandNs);

    // The hypervisor: same guest memory; Command register and MSI-X table restored on b; then resume.
    access.retarget(b);
    const irqsBefore = g.irqs.log.length;
    const m1 = host.clock.nowNs;
    virtioPciAdminModeSet(k, b.dev, MODE_RUNNING);
    expect(host.clock.nowNs - m1).toBeGreaterThanOrEqual(DEFAULT_COSTS.adminCommandNs);

    // b picked up where a stopped: 6 and 7 (kicked on a while stopped) leave through PF 2's port.
    expect(pf2.readExternal().map(tagOf)).toEqual([6, 7]);
    expect(access.barRead(4, 20, 1)).toBe(S.ACK | S.DRIVER | S.FEATURES_OK | S.DRIVER_OK);
    g.service();
    for (const t of [8, 9, 10]) send(t);
    g.service();
    expect(pf2.readExternal().map(tagOf)).toEqual([8, 9, 10]);
    // The interrupts since the resume came from b, through the MSI-X table the hypervisor restored.
    const after = g.irqs.log.slice(irqsBefore);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((d) => d.rid === b.rid)).toBe(true);
    for (const t of [103, 104]) pf2.injectExternal(frame(mac, EXTERNAL_HOST, t));
    g.service();

    // Nothing lost, nothing duplicated: on the wire, in the driver's completions and receives.
    expect(pf1.readExternal()).toEqual([]);
    expect(sent).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect([...g.txCompleted].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(g.received.map(tagOf)).toEqual([101, 102, 103, 104]);
    const snap = g.driver.snapshot();
    expect(snap).toMatchObject({ state: 'up', txInFlight: [] });
    expect(g.driver.counters()).toMatchObject({ txFrames: 10, txCompleted: 10, rxFrames: 4, rxErrors: 0 });
    // Device counters: a sent 5 and received 2; b sent 5 and received 2 (counters are not state).
    expect(pf1.stats().vfs.get(1)).toMatchObject({ tx_packets: 5, rx_packets: 2, rx_dropped: 0 });
    expect(pf2.stats().vfs.get(2)).toMatchObject({ tx_packets: 5, rx_packets: 2, rx_dropped: 0 });
    // b answers to the guest's MAC now; a stays stopped and drops what still arrives for it.
    expect(pf2.vf(2)!.mac).toBe(pf1.vf(1)!.mac);
    pf1.injectExternal(frame(mac, EXTERNAL_HOST, 200));
    g.service();
    expect(g.received.length).toBe(4);
    expect(pf1.stats().vfs.get(1)!.rx_dropped).toBe(1);
    expect(pf1.vf(1)!.transport.stopped).toBe(true);
  });
});
