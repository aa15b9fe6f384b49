/**
 * Cross-check against the real lspci, run as a child process, when /usr/bin/lspci is pciutils 3.9.0
 * (CI installs it; elsewhere these tests are reported as skipped). Both read the same files: the hex
 * dumps through -F, the system pci.ids, and for live mode a fake sysfs tree that the real lspci reads
 * through its linux-sysfs back end (-O sysfs.path=...).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runLspci } from '../../src/lab/lspci/index.js';
import {
  COMMON_ARGS,
  caseName,
  cases,
  expected,
  FIXTURES,
  liveDevices,
  nodeIo,
  realLspciVersion,
  runReal,
  writeFakeSysfs,
} from './helpers.js';

const version = realLspciVersion();
const usable = version === 'lspci version 3.9.0';
const why = usable ? '' : ` [skipped: needs /usr/bin/lspci 3.9.0, found ${version ?? 'none'}]`;

/** The option sets of the brief, over every hand-built dump. */
const OPTION_SETS = [
  ['-n', '-vvv'],
  ['-nn', '-vvv'],
  ['-vvv'],
  ['-v'],
  ['-x'],
  ['-xxx'],
  ['-xxxx'],
  ['-t'],
  ['-tv'],
  ['-D', '-n'],
  ['-s', '01:00.0', '-vv'],
];
const DUMPS = ['topology.dump', 'misc.dump', 'domain.dump', 'pf-endpoint.dump', 'vf.dump', 'root-port.dump'];
/** The real lspci must not name devices from udev's hwdb, which the clone does not model. */
const NO_HWDB = ['-O', 'hwdb.disable=1'];

describe(`real lspci, dumps, system pci.ids${why}`, () => {
  for (const file of DUMPS) {
    for (const opts of OPTION_SETS) {
      it.skipIf(!usable)(`${file} ${opts.join(' ')}`, () => {
        const args = [...NO_HWDB, ...opts, '-F', join(FIXTURES, file)];
        const real = runReal(args);
        const ours = runLspci(args, [], nodeIo);
        expect(ours.status).toBe(real.status);
        expect(ours.stdout.split('\n')).toEqual(real.stdout.split('\n'));
      });
    }
  }
});

describe(`real lspci, live mode through a fake sysfs tree${why}`, () => {
  const devices = liveDevices();
  const root = usable ? writeFakeSysfs(devices) : undefined;
  afterAll(() => {
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });
  for (const opts of [...OPTION_SETS, ['-k'], ['-nnk', '-v'], ['-b', '-vv'], ['-mm', '-vk']]) {
    it.skipIf(!usable)(`live ${opts.join(' ')}`, () => {
      const args = ['-A', 'linux-sysfs', '-O', `sysfs.path=${root}`, ...NO_HWDB, ...opts];
      const real = runReal(args);
      const ours = runLspci(args, devices, nodeIo);
      expect(ours.status).toBe(real.status);
      expect(ours.stdout.split('\n')).toEqual(real.stdout.split('\n'));
    });
  }
});

describe(`the stored expected outputs are what the real lspci prints today${why}`, () => {
  for (const c of cases.dump) {
    it.skipIf(!usable)(caseName(c.file, c.args), () => {
      const real = runReal([...COMMON_ARGS, ...c.args, '-F', join(FIXTURES, c.file)]);
      expect(real.stdout).toBe(expected(c.file, c.args));
    });
  }
});

describe(`real lspci, bad command lines: same exit status${why}`, () => {
  const BAD = [
    ['-Z'],
    ['-s', 'zz'],
    ['-s', '1:2:3:4'],
    ['-s', '0.8'],
    ['-d', '1'],
    ['-d', 'g:'],
    ['-F', '/nonexistent/dump'],
    ['-F', join(FIXTURES, 'topology.dump'), 'extra'],
    ['-s'],
    ['-A', 'nosuchmethod'],
    ['-O', 'nosuchparam=1'],
  ];
  for (const args of BAD) {
    it.skipIf(!usable)(args.join(' '), () => {
      const real = runReal(args);
      const ours = runLspci(args, [], nodeIo);
      expect(ours.status).toBe(real.status);
      expect(ours.stdout).toBe(real.stdout);
    });
  }
});
