/**
 * The `vfio` host-shell tool: text and --json of every subcommand, on virtio-net VFs bound to vfio-pci
 * (no migration: ENOTTY) and on VFs given a fake migration driver. Expected paths are written by hand
 * from facts/kernel.md 1.4 ("Effective paths produced by the algorithm, per flag set"); region and IRQ
 * values from facts 3.3/3.4 and the catalog's VF layout (MSI-X 4 vectors in BAR1, BAR4 16 KiB 64-bit
 * prefetchable, no INTx pin, config 4 KiB, vendor 0x1af4, VF device ID 0x1041).
 */
import { describe, expect, it } from 'vitest';
import { DmaLogger, dmaLoggingInPlaceHandlers } from '../../src/kernel/vfio/dma-logging/index.js';
import { createHostShell } from '../../src/lab/commands/index.js';
import { P2P, PRE, SC, toolHost } from './support.js';

const MS = 1_000_000;

describe('vfio list / info / read / write / reset', () => {
  it('list names each VFIO device by cdev, BDF, group and driver', () => {
    const t = toolHost(2);
    expect(t.vfio('list').out).toBe(
      'vfio0 0000:01:00.1 group 0 vfio-pci /dev/vfio/devices/vfio0\n' +
        'vfio1 0000:01:00.2 group 1 vfio-pci /dev/vfio/devices/vfio1\n',
    );
    t.vfio('info vfio1');
    expect(t.json('list')).toEqual({
      devices: [
        {
          name: 'vfio0',
          device: '0000:01:00.1',
          group: 0,
          cdev: '/dev/vfio/devices/vfio0',
          driver: 'vfio-pci',
          open: false,
        },
        {
          name: 'vfio1',
          device: '0000:01:00.2',
          group: 1,
          cdev: '/dev/vfio/devices/vfio1',
          driver: 'vfio-pci',
          open: true,
        },
      ],
    });
  });

  it('info: device flags, the nine regions with flags and sizes, the five IRQs', () => {
    const t = toolHost(1);
    const j = t.json('info 01:00.1');
    expect(j).toMatchObject({
      device: '0000:01:00.1',
      name: 'vfio0',
      group: 0,
      driver: 'vfio-pci',
      flags: ['RESET', 'PCI'],
      numRegions: 9,
      numIrqs: 5,
    });
    expect(j['regions']).toEqual([
      { index: 0, name: 'BAR0', size: 0, offset: '0x0', flags: [] },
      {
        index: 1,
        name: 'BAR1',
        size: 0x1000,
        offset: '0x10000000000',
        flags: ['READ', 'WRITE', 'MMAP', 'CAPS'],
      },
      { index: 2, name: 'BAR2', size: 0, offset: '0x20000000000', flags: [] },
      { index: 3, name: 'BAR3', size: 0, offset: '0x30000000000', flags: [] },
      { index: 4, name: 'BAR4', size: 0x4000, offset: '0x40000000000', flags: ['READ', 'WRITE', 'MMAP'] },
      { index: 5, name: 'BAR5', size: 0, offset: '0x50000000000', flags: [] },
      { index: 6, name: 'ROM', size: 0, offset: '0x60000000000', flags: [] },
      { index: 7, name: 'CONFIG', size: 0x1000, offset: '0x70000000000', flags: ['READ', 'WRITE'] },
      { index: 8, name: 'VGA', errno: 'EINVAL' },
    ]);
    expect(j['irqs']).toEqual([
      { index: 0, name: 'INTX', count: 0, flags: ['EVENTFD', 'MASKABLE', 'AUTOMASKED'] },
      { index: 1, name: 'MSI', count: 0, flags: ['EVENTFD', 'NORESIZE'] },
      { index: 2, name: 'MSIX', count: 4, flags: ['EVENTFD', 'NORESIZE'] },
      { index: 3, name: 'ERR', count: 1, flags: ['EVENTFD', 'NORESIZE'] },
      { index: 4, name: 'REQ', count: 1, flags: ['EVENTFD', 'NORESIZE'] },
    ]);
    const text = t.vfio('info vfio0').out.split('\n');
    expect(text[0]).toBe('0000:01:00.1 (vfio0, group 0, vfio-pci): flags RESET|PCI, 9 regions, 5 irqs');
    expect(text).toContain(
      'region 1 BAR1: size 0x1000 offset 0x10000000000 flags READ|WRITE|MMAP|CAPS caps 3',
    );
    expect(text).toContain('region 8 VGA: Invalid argument');
    expect(text).toContain('irq 2 MSIX: count 4 flags EVENTFD|NORESIZE');
  });

  it('read and write go through the region offsets; config is virtualized', () => {
    const t = toolHost(1);
    expect(t.vfio('read 01:00.1 CONFIG 0 4').out).toBe('CONFIG+0x0: 0x10411af4\n');
    expect(t.json('read vfio0 7 0 2')).toEqual({
      region: 'CONFIG',
      offset: '0x0',
      size: 2,
      hex: 'f41a',
      value: 0x1af4,
    });
    // Interrupt Line (0x3c) is virtualized read-write.
    expect(t.json('write vfio0 CONFIG 0x3c 1 0x5a')).toEqual({
      region: 'CONFIG',
      offset: '0x3c',
      size: 1,
      value: 0x5a,
      written: 1,
    });
    expect(t.json('read vfio0 CONFIG 0x3c 1')).toMatchObject({ value: 0x5a });
    expect(t.vfio('write vfio0 CONFIG 0x3c 1 0x1ff').status).toBe(2);
    expect(t.json('read vfio0 VGA 0 4')).toEqual({ errno: 'EINVAL' });
  });

  it('reset runs an FLR on the modeled clock (100 ms plus the config cycles around it)', () => {
    const t = toolHost(1);
    t.vfio('info vfio0');
    const j = t.json('reset 0000:01:00.1');
    expect(j['device']).toBe('0000:01:00.1');
    expect(j['reset']).toBe(true);
    expect(j['modeledNs']).toBeGreaterThanOrEqual(100 * MS);
    expect(j['modeledNs']).toBeLessThan(102 * MS);
    expect(t.vfio('reset vfio0').out).toMatch(/^0000:01:00\.1: reset \(10[01]\.\d+ ms modeled\)\n$/);
  });
});

describe('vfio mig on a vfio-pci device (no mig_ops)', () => {
  it('every migration request reports ENOTTY', () => {
    const t = toolHost(1);
    expect(t.json('mig 01:00.1 state')).toEqual({ errno: 'ENOTTY' });
    expect(t.json('mig 01:00.1 state STOP')).toEqual({ errno: 'ENOTTY' });
    expect(t.json('mig vfio0 data-size')).toEqual({ errno: 'ENOTTY' });
    expect(t.json('mig vfio0 save /a')).toEqual({ errno: 'ENOTTY' });
    expect(t.json('mig vfio0 precopy-info')).toEqual({ errno: 'ENOTTY' });
    const r = t.vfio('mig 01:00.1 state STOP');
    expect(r).toEqual({ status: 1, out: '', err: 'vfio: mig 01:00.1: Inappropriate ioctl for device\n' });
  });
});

describe('vfio mig DEVICE state TARGET --json (facts 1.4 paths)', () => {
  it('SC|P2P: RUNNING->STOP via RUNNING_P2P, STOP_COPY->PRE_COPY EINVAL, back to RUNNING', () => {
    const t = toolHost(1);
    t.fake(0, SC | P2P);
    expect(t.json('mig vfio0 state')).toEqual({ state: 'RUNNING', flags: ['STOP_COPY', 'P2P'] });
    expect(t.json('mig vfio0 state STOP')).toEqual({ path: ['RUNNING', 'RUNNING_P2P', 'STOP'] });
    const sc = t.json('mig vfio0 state STOP_COPY');
    expect(sc['path']).toEqual(['STOP', 'STOP_COPY']);
    expect(typeof sc['dataFd']).toBe('number');
    // PRE_COPY is not supported by this device: EINVAL, and the device stays where it was.
    expect(t.json('mig vfio0 state PRE_COPY')).toEqual({ errno: 'EINVAL', state: 'STOP_COPY' });
    expect(t.json('mig vfio0 state ERROR')).toEqual({ errno: 'EINVAL', state: 'STOP_COPY' });
    expect(t.json('mig vfio0 state RUNNING')).toEqual({
      path: ['STOP_COPY', 'STOP', 'RUNNING_P2P', 'RUNNING'],
    });
    expect(t.json('mig vfio0 state RUNNING')).toEqual({ path: ['RUNNING'] });
    expect(t.json('mig vfio0 state RESUMING')).toMatchObject({
      path: ['RUNNING', 'RUNNING_P2P', 'STOP', 'RESUMING'],
    });
  });

  it('SC only and SC|PRE_COPY skip unsupported states; STOP_COPY->PRE_COPY is EINVAL', () => {
    const t = toolHost(2);
    t.fake(0, SC);
    t.fake(1, SC | PRE);
    expect(t.json('mig vfio0 state STOP')).toEqual({ path: ['RUNNING', 'STOP'] });
    expect(t.json('mig vfio0 state RUNNING_P2P')).toEqual({ errno: 'EINVAL', state: 'STOP' });
    expect(t.json('mig vfio0 state RUNNING')).toEqual({ path: ['STOP', 'RUNNING'] });
    expect(t.json('mig vfio1 state STOP')).toEqual({ path: ['RUNNING', 'STOP'] });
    expect(t.json('mig vfio1 state PRE_COPY')).toMatchObject({ path: ['STOP', 'RUNNING', 'PRE_COPY'] });
    expect(t.json('mig vfio1 state STOP_COPY')).toEqual({ path: ['PRE_COPY', 'STOP_COPY'] });
    expect(t.json('mig vfio1 state PRE_COPY')).toEqual({ errno: 'EINVAL', state: 'STOP_COPY' });
  });

  it('SC|P2P|PRE_COPY: saving-group paths and the long way from RESUMING', () => {
    const t = toolHost(1);
    t.fake(0, SC | P2P | PRE);
    expect(t.json('mig vfio0 state PRE_COPY')).toMatchObject({ path: ['RUNNING', 'PRE_COPY'] });
    expect(t.json('mig vfio0 state STOP_COPY')).toEqual({ path: ['PRE_COPY', 'PRE_COPY_P2P', 'STOP_COPY'] });
    expect(t.json('mig vfio0 state RESUMING')).toMatchObject({ path: ['STOP_COPY', 'STOP', 'RESUMING'] });
    // The resume session has no data: RESUMING -> STOP fails and the device stays in RESUMING.
    expect(t.json('mig vfio0 state PRE_COPY')).toEqual({ errno: 'EINVAL', state: 'RESUMING' });
  });

  it('text prints every arc it ran, then the final state', () => {
    const t = toolHost(1);
    t.fake(0, SC | P2P);
    expect(t.vfio('mig 0000:01:00.1 state STOP')).toEqual({
      status: 0,
      out: 'RUNNING -> RUNNING_P2P\nRUNNING_P2P -> STOP\n0000:01:00.1: STOP\n',
      err: '',
    });
    const r = t.vfio('mig vfio0 state STOP_COPY');
    expect(r.out).toMatch(/^STOP -> STOP_COPY\n0000:01:00\.1: STOP_COPY \(data fd \d+\)\n$/);
    expect(t.vfio('mig vfio0 state pre_copy')).toEqual({
      status: 1,
      out: '',
      err: 'vfio: 0000:01:00.1: STOP_COPY -> PRE_COPY: Invalid argument (device is in STOP_COPY)\n',
    });
    expect(t.vfio('mig vfio0 state VFIO_DEVICE_STATE_RUNNING').out).toBe(
      'STOP_COPY -> STOP\nSTOP -> RUNNING_P2P\nRUNNING_P2P -> RUNNING\n0000:01:00.1: RUNNING\n',
    );
  });
});

describe('vfio mig save / load / precopy-info / data-size', () => {
  it('moves a device state to another VF through a file in the shell', () => {
    const t = toolHost(2);
    const src = t.fake(0, SC | P2P, 3000);
    const dst = t.fake(1, SC | P2P, 10);
    expect(t.json('mig vfio0 data-size')).toEqual({ stopCopyLength: 3016 });
    t.vfio('mig vfio0 state STOP_COPY');
    expect(t.json('mig vfio0 save /state.bin')).toEqual({
      file: '/state.bin',
      bytes: 3016,
      endOfStream: true,
    });
    expect(t.tool.files.get('/state.bin')?.length).toBe(3016);
    expect(t.json('files')).toEqual({ files: [{ file: '/state.bin', bytes: 3016 }] });
    // load before RESUMING: no resume fd.
    expect(t.json('mig vfio1 load /state.bin')).toEqual({ errno: 'EBADF' });
    t.vfio('mig vfio1 state RESUMING');
    expect(t.vfio('mig vfio1 load /state.bin').out).toBe('0000:01:00.2: loaded 3016 bytes from /state.bin\n');
    expect(t.json('mig vfio1 state RUNNING')).toEqual({
      path: ['RESUMING', 'STOP', 'RUNNING_P2P', 'RUNNING'],
    });
    expect([...dst.state]).toEqual([...src.state]);
  });

  it('a corrupted file fails the load check with EINVAL; a missing file is ENOENT', () => {
    const t = toolHost(2);
    t.fake(0, SC | P2P, 64);
    t.fake(1, SC | P2P, 64);
    t.vfio('mig vfio0 state STOP_COPY');
    t.vfio('mig vfio0 save /s');
    const bytes = t.tool.files.get('/s')!;
    t.tool.files.set('/bad', bytes.subarray(0, 40));
    t.vfio('mig vfio1 state RESUMING');
    expect(t.json('mig vfio1 load /nope')).toEqual({ errno: 'ENOENT' });
    expect(t.vfio('mig vfio1 load /nope').err).toBe('vfio: mig vfio1: No such file or directory\n');
    expect(t.json('mig vfio1 load /bad')).toEqual({ file: '/bad', bytes: 40 });
    expect(t.json('mig vfio1 state STOP')).toEqual({ errno: 'EINVAL', state: 'RESUMING' });
  });

  it('PRE_COPY: precopy-info falls as the initial data is read; save stops at ENOMSG', () => {
    const t = toolHost(1);
    t.fake(0, SC | P2P | PRE, 200);
    expect(t.json('mig vfio0 precopy-info')).toEqual({ errno: 'EBADF' });
    t.vfio('mig vfio0 state PRE_COPY');
    expect(t.json('mig vfio0 precopy-info')).toEqual({ initialBytes: 216, dirtyBytes: 0 });
    expect(t.vfio('mig vfio0 precopy-info').out).toBe('0000:01:00.1: initial_bytes 216 dirty_bytes 0\n');
    expect(t.json('mig vfio0 save /pre')).toEqual({ file: '/pre', bytes: 216, endOfStream: false });
    expect(t.json('mig vfio0 precopy-info')).toEqual({ initialBytes: 0, dirtyBytes: 0 });
    // Same fd into STOP_COPY: no new data fd, the rest (nothing) then end of stream.
    expect(t.json('mig vfio0 state STOP_COPY')).toEqual({ path: ['PRE_COPY', 'PRE_COPY_P2P', 'STOP_COPY'] });
    expect(t.json('mig vfio0 precopy-info')).toEqual({ errno: 'EINVAL' });
    expect(t.json('mig vfio0 save /final')).toEqual({ file: '/final', bytes: 0, endOfStream: true });
    t.vfio('mig vfio0 state RUNNING');
    expect(t.json('mig vfio0 save /after')).toEqual({ errno: 'ENODEV' });
  });
});

describe('vfio dirty', () => {
  it('a vfio-pci device has no DMA logging: ENOTTY', () => {
    const t = toolHost(1);
    expect(t.json('dirty vfio0 start 0:0x10000')).toEqual({ errno: 'ENOTTY' });
    expect(t.json('dirty vfio0 stop')).toEqual({ errno: 'ENOTTY' });
    expect(t.json('dirty vfio0 report 0 0x10000')).toEqual({ errno: 'ENOTTY' });
  });

  it('start, report and stop on a device with DMA logging handlers', () => {
    const t = toolHost(1);
    const logger = new DmaLogger();
    t.k.vfio.devices[0]!.registerFeatureHandlers(dmaLoggingInPlaceHandlers(logger, t.tool.userMemory));
    expect(t.json('dirty vfio0 report 0 0x10000')).toEqual({ errno: 'EINVAL' });
    expect(t.json('dirty vfio0 start 0:0x10000 0x100000:0x2000')).toEqual({
      started: true,
      ranges: 2,
      pageSize: 4096,
    });
    logger.recordWrite(0x2000n, 0x10n);
    logger.recordWrite(0x101000n, 0x1000n);
    expect(t.json('dirty vfio0 report 0 0x10000')).toEqual({
      iova: 0,
      length: 0x10000,
      pageSize: 4096,
      dirty: [0x2000],
    });
    // Read-and-clear: the second report of the same range is empty.
    expect(t.json('dirty vfio0 report 0 0x10000')).toMatchObject({ dirty: [] });
    expect(t.vfio('dirty vfio0 report 0x100000 0x2000').out).toBe(
      '0000:01:00.1: 1 dirty pages of 2 (page size 4096)\n0x101000\n',
    );
    expect(t.json('dirty vfio0 report 0 0x10000 --page-size 1000')).toEqual({ errno: 'EINVAL' });
    expect(t.json('dirty vfio0 start 0:0x1000')).toEqual({ errno: 'EINVAL' }); // already logging
    expect(t.json('dirty vfio0 stop')).toEqual({ stopped: true });
  });
});

describe('errors and arguments', () => {
  it('an unknown device is ENODEV in both forms', () => {
    const t = toolHost(1);
    expect(t.vfio('info 0000:99:00.0')).toEqual({
      status: 1,
      out: '',
      err: 'vfio: info 0000:99:00.0: No such device\n',
    });
    expect(t.json('mig vfio7 state')).toEqual({ errno: 'ENODEV' });
    // The PF is not a VFIO device.
    expect(t.json('info 01:00.0')).toEqual({ errno: 'ENODEV' });
  });

  it('bad arguments print the usage (status 2), or EINVAL with --json', () => {
    const t = toolHost(1);
    for (const line of [
      '',
      'frob',
      'info',
      'read vfio0 CONFIG 0',
      'read vfio0 NOPE 0 4',
      'write vfio0 CONFIG 0 3 1',
      'mig vfio0',
      'mig vfio0 state BOGUS',
      'mig vfio0 save',
      'dirty vfio0 start',
      'dirty vfio0 start 0x1000',
      'dirty vfio0 launch',
      'list extra',
    ]) {
      const r = t.vfio(line);
      expect([line, r.status, r.out]).toEqual([line, 2, '']);
      expect(r.err).toContain('usage: vfio');
      const j = t.vfio(`${line} --json`);
      expect(j.status).toBe(2);
      expect(JSON.parse(j.out)).toMatchObject({ errno: 'EINVAL' });
    }
  });

  it('is registered in the host shell, and the shell keeps the device state between commands', () => {
    const t = toolHost(1);
    t.fake(0, SC | P2P);
    const sh = createHostShell(t.host, { readFile: () => '', wallNowNs: () => 0 });
    expect(sh.execute('vfio mig 01:00.1 state STOP --json').stdout).toBe(
      '{"path":["RUNNING","RUNNING_P2P","STOP"]}\n',
    );
    expect(sh.execute('vfio mig 01:00.1 state --json').stdout).toBe(
      '{"state":"STOP","flags":["STOP_COPY","P2P"]}\n',
    );
  });
});
