/**
 * Frames and control requests through the fake device in both modes: the virtio_net_hdr and control
 * bytes the device reads (facts 1.12), interrupts by MSI-X vector and by INTx/ISR, refill, config
 * changes, reset, and a device swap mid-flight where nothing may be lost or duplicated.
 */
import { describe, expect, it } from 'vitest';
import { isLabError } from '../../src/base/index.js';
import { FakeVirtioNet } from './fake-virtio-net.js';
import { F, frame, LEGACY_OFFERED, MODERN_OFFERED, MSI_ADDR, MSI_DATA_BASE, rig } from './support.js';

const msix = { messageAddr: MSI_ADDR, messageDataBase: MSI_DATA_BASE };

describe.each([
  ['modern', MODERN_OFFERED, 12],
  ['legacy', LEGACY_OFFERED, 10],
] as const)('%s datapath', (mode, offered, hdrLen) => {
  it(`sends a frame behind a zeroed ${hdrLen}-byte header and completes it once`, () => {
    const { dev, driver, mem, allocator } = rig({ offered, queueSizes: [8, 8, 8] });
    driver.init({ mode, access: dev, memory: mem, allocator });
    const f = frame(60);
    const id = driver.send(f);
    expect(dev.transmitted).toHaveLength(1);
    expect([...dev.transmitted[0]!.hdr]).toEqual(new Array(hdrLen).fill(0));
    expect(dev.transmitted[0]!.frame).toEqual(f);
    expect(driver.pendingWork()).toBe(true);
    const events = driver.handleInterrupt('intx');
    expect(events.txCompleted).toEqual([id]);
    expect(driver.poll().txCompleted).toEqual([]);
    expect(driver.counters()).toMatchObject({ txFrames: 1, txBytes: 60, txCompleted: 1, interrupts: 1 });
  });

  it('receives frames and reposts their buffers', () => {
    const { dev, driver, mem, allocator } = rig({ offered, queueSizes: [8, 8, 8] });
    driver.init({ mode, access: dev, memory: mem, allocator });
    const posted = driver.snapshot();
    expect(posted).toMatchObject({ state: 'up', rxPosted: 8 });
    for (let i = 0; i < 20; i++) {
      expect(dev.deliver(frame(64 + i, i))).toBe(true);
      const { received } = driver.poll();
      expect(received).toHaveLength(1);
      expect(received[0]!.frame).toEqual(frame(64 + i, i));
      expect(received[0]!.hdr.flags).toBe(0);
    }
    expect(driver.snapshot()).toMatchObject({ rxPosted: 8 });
    expect(driver.counters()).toMatchObject({ rxFrames: 20, rxErrors: 0 });
  });

  it('sends control requests as {class, command, data} + ack and applies acked ones', () => {
    const { dev, driver, mem, allocator } = rig({ offered: offered | F.CTRL_MAC_ADDR });
    driver.init({ mode, access: dev, memory: mem, allocator });
    const newMac = Uint8Array.of(0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee);
    const set = driver.setMac(newMac);
    const p = driver.setPromisc(true);
    const a = driver.setAllmulti(false);
    expect(dev.ctrlRequests.map((r) => [...r.readable])).toEqual([
      [1, 1, 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee], // MAC, ADDR_SET
      [0, 0, 1], // RX, PROMISC on
      [0, 1, 0], // RX, ALLMULTI off
    ]);
    expect(dev.ctrlRequests.map((r) => r.writableLens)).toEqual([[1], [1], [1]]);
    const { ctrlCompleted } = driver.poll();
    expect(set).toEqual({ kind: 'ctrl', id: 0 });
    expect(ctrlCompleted).toEqual([
      { id: 0, class: 1, command: 1, ack: 0 },
      { id: p, class: 0, command: 0, ack: 0 },
      { id: a, class: 0, command: 1, ack: 0 },
    ]);
    expect([...driver.mac]).toEqual([...newMac]);
    expect(dev.promisc).toBe(true);
  });

  it('a control submission short of space reaps earlier completions and still reports each once', () => {
    const { dev, driver, mem, allocator } = rig({ offered, queueSizes: [8, 8, 4] });
    driver.init({ mode, access: dev, memory: mem, allocator });
    // A request takes 3 of the 4 descriptors: the second submission must reap the first.
    const ids = [driver.setPromisc(true), driver.setAllmulti(true), driver.setPromisc(false)];
    expect(driver.pendingWork()).toBe(true);
    expect(driver.poll().ctrlCompleted.map((c) => c.id)).toEqual(ids);
    expect(driver.poll().ctrlCompleted).toEqual([]);
  });

  it('reports a refused control request and keeps the old MAC', () => {
    const { dev, driver, mem, allocator } = rig({ offered: offered | F.CTRL_MAC_ADDR });
    driver.init({ mode, access: dev, memory: mem, allocator });
    const before = driver.mac;
    dev.ctrlAck = 1;
    driver.setMac(Uint8Array.of(2, 0, 0, 0, 0, 9));
    expect(driver.poll().ctrlCompleted[0]!.ack).toBe(1);
    expect(driver.mac).toEqual(before);
    expect(driver.counters()).toMatchObject({ ctrlErr: 1, ctrlOk: 0 });
  });

  it('takes queue and config events by MSI-X vector', () => {
    const { dev, driver, mem, allocator } = rig({ offered, msixTableSize: 4 });
    driver.init({ mode, access: dev, memory: mem, allocator, msix });
    const id = driver.send(frame(100));
    expect(dev.msiSent).toEqual([{ vector: 2, addr: MSI_ADDR, data: MSI_DATA_BASE + 2 }]);
    expect(driver.handleInterrupt(dev.takeVectors()[0]!).txCompleted).toEqual([id]);
    dev.deliver(frame(70));
    expect(dev.takeVectors()).toEqual([1]);
    expect(driver.handleInterrupt(2).received).toEqual([]); // the TX vector does not drain RX
    expect(driver.handleInterrupt(1).received).toHaveLength(1);
    dev.changeLinkStatus(0);
    expect(dev.takeVectors()).toEqual([0]);
    const ev = driver.handleInterrupt(0);
    expect(ev.configChanged).toBe(true);
    expect(driver.linkUp).toBe(false);
    driver.handleInterrupt(3);
    expect(driver.counters()).toMatchObject({ interrupts: 5, spuriousInterrupts: 0, configChanges: 1 });
    // No ISR reads with MSI-X on.
    expect(dev.trace.some((a) => a[1] === 'isr' || (a[1] === 'legacy' && a[2] === 19))).toBe(false);
  });

  it('on INTx reads the ISR: config bit, queue bit, and spurious interrupts', () => {
    const { dev, driver, mem, allocator } = rig({ offered });
    driver.init({ mode, access: dev, memory: mem, allocator });
    expect(driver.handleInterrupt('intx')).toEqual({
      received: [],
      txCompleted: [],
      ctrlCompleted: [],
      configChanged: false,
    });
    expect(driver.counters().spuriousInterrupts).toBe(1);
    dev.changeLinkStatus(0);
    expect(driver.handleInterrupt('intx').configChanged).toBe(true);
    expect(driver.linkUp).toBe(false);
    expect(dev.isr).toBe(0);
    expect(() => driver.handleInterrupt(1)).toThrow(/INTx/);
  });

  it('fills the transmit queue, fails with ENOSPC, then recovers by reaping in send', () => {
    const { dev, driver, mem, allocator } = rig({ offered, queueSizes: [8, 4, 8] });
    driver.init({ mode, access: dev, memory: mem, allocator });
    dev.autoProcess = false;
    const ids = [0, 1, 2, 3].map((i) => driver.send(frame(60, i)));
    let error: unknown;
    try {
      driver.send(frame(60));
    } catch (e) {
      error = e;
    }
    expect(isLabError(error) && error.errno).toBe('ENOSPC');
    dev.process(1, 2);
    const id = driver.send(frame(60, 9));
    expect(driver.snapshot()).toMatchObject({ txCompletedUnreported: [0, 1] });
    dev.process(1);
    expect(driver.poll().txCompleted).toEqual([...ids, id]);
  });

  it('reset drops what is in flight, frees memory, and the driver can init again', () => {
    const { dev, driver, mem, allocator } = rig({ offered });
    driver.init({ mode, access: dev, memory: mem, allocator });
    dev.autoProcess = false;
    driver.send(frame(60));
    driver.send(frame(61));
    expect(driver.reset()).toEqual({ droppedTx: [0, 1], droppedCtrl: [] });
    expect(dev.status).toBe(0);
    expect(allocator.regionCount).toBe(0);
    expect(driver.state).toBe('down');
    driver.init({ mode, access: dev, memory: mem, allocator });
    dev.autoProcess = true;
    driver.send(frame(62));
    expect(dev.transmitted.at(-1)!.frame).toEqual(frame(62));
  });
});

describe('MAC without a control command', () => {
  it('legacy without CTRL_MAC_ADDR writes the six config bytes', () => {
    const { dev, driver, mem, allocator } = rig({ offered: LEGACY_OFFERED });
    driver.init({ mode: 'legacy', access: dev, memory: mem, allocator });
    expect(driver.setMac(Uint8Array.of(2, 1, 2, 3, 4, 5))).toEqual({ kind: 'config-written' });
    expect(dev.trace.filter((a) => a[0] === 'W' && a[1] === 'legacy' && a[2] >= 20 && a[2] < 26)).toEqual(
      [2, 1, 2, 3, 4, 5].map((b, i) => ['W', 'legacy', 20 + i, 1, b]),
    );
    expect(dev.mac).toEqual([2, 1, 2, 3, 4, 5]);
  });

  it('modern without CTRL_MAC_ADDR refuses with EOPNOTSUPP', () => {
    const { dev, driver, mem, allocator } = rig({ offered: MODERN_OFFERED & ~F.CTRL_MAC_ADDR });
    driver.init({ mode: 'modern', access: dev, memory: mem, allocator });
    expect(() => driver.setMac(Uint8Array.of(2, 0, 0, 0, 0, 1))).toThrow(/EOPNOTSUPP/);
  });
});

describe('continue after the device state moves', () => {
  it.each(['modern', 'legacy'] as const)(
    '%s: every frame completes exactly once on the new device',
    (mode) => {
      const {
        dev: src,
        driver,
        mem,
        allocator,
      } = rig({ offered: mode === 'modern' ? MODERN_OFFERED : LEGACY_OFFERED, msixTableSize: 4 });
      let current = src;
      // The access object the driver holds stays the same; the device behind it changes (as a VMM's does).
      const access = {
        configRead: (o: number, w: 1 | 2 | 4) => current.configRead(o, w),
        configWrite: (o: number, w: 1 | 2 | 4, v: number) => current.configWrite(o, w, v),
        barRead: (b: number, o: number, w: 1 | 2 | 4) => current.barRead(b, o, w),
        barWrite: (b: number, o: number, w: 1 | 2 | 4, v: number) => current.barWrite(b, o, w, v),
      };
      driver.init({ mode, access, memory: mem, allocator, msix });
      src.autoProcess = false;
      const ids = [0, 1, 2, 3, 4].map((i) => driver.send(frame(80, i)));
      src.process(1, 2);
      src.deliver(frame(90, 1));
      const before = driver.snapshot();
      expect(before).toMatchObject({ txInFlight: ids.map((id) => ({ id, bytes: 80 })) });

      // Stop-and-copy: the destination takes the source's state; the source is gone.
      const dst = new FakeVirtioNet(mem, { offered: src.options.offered, msixTableSize: 4 });
      dst.restoreFrom(src);
      current = dst;
      expect(driver.snapshot()).toEqual(before); // taking a snapshot changes nothing

      dst.process(1);
      dst.deliver(frame(90, 2));
      const events = [driver.handleInterrupt(1), driver.handleInterrupt(2)];
      const completed = events.flatMap((e) => e.txCompleted);
      const received = events.flatMap((e) => e.received.map((r) => r.frame));
      expect(completed).toEqual(ids);
      expect([...src.transmitted, ...dst.transmitted].map((t) => t.frame)).toEqual(
        ids.map((i) => frame(80, i)),
      );
      expect(received).toEqual([frame(90, 1), frame(90, 2)]);
      const after = driver.snapshot();
      expect(after).toMatchObject({ txInFlight: [], rxPosted: before.state === 'up' ? before.rxPosted : -1 });
      expect(driver.send(frame(60, 7))).toBe(5);
      expect(dst.transmitted.at(-1)!.frame).toEqual(frame(60, 7));
    },
  );
});
