/**
 * Every case of fixtures/lspci/cases.json against the output real pciutils 3.9.0 printed for it
 * (fixtures/lspci/expected, written by regen.py): dumps through -F, and the live topology of
 * live-topology.json through a sysfs view. Runs without lspci installed.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runLspci } from '../../src/lab/lspci/index.js';
import { COMMON_ARGS, cases, expected, FIXTURES, liveDevices, nodeIo } from './helpers.js';

/** What the real run was given for a live case, so that the clone sees the same arguments. */
const LIVE_ARGS = ['-A', 'linux-sysfs', '-O', 'sysfs.path=/sys/bus/pci'];

describe('lspci -F over the hand-built dumps matches pciutils 3.9.0 line for line', () => {
  for (const c of cases.dump) {
    it(`${c.file} ${c.args.join(' ')}`, () => {
      const r = runLspci([...COMMON_ARGS, ...c.args, '-F', join(FIXTURES, c.file)], [], nodeIo);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(expected(c.file, c.args));
    });
  }
});

describe('live lspci over the sysfs view matches pciutils 3.9.0 reading the same sysfs tree', () => {
  for (const c of cases.live) {
    it(`live ${c.args.join(' ')}`, () => {
      const r = runLspci([...LIVE_ARGS, ...COMMON_ARGS, ...c.args], liveDevices(), nodeIo);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(expected('live', c.args));
    });
  }
});
