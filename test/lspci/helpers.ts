/**
 * Shared test plumbing for the lspci clone: fixture paths, a hex-dump reader written independently of
 * the code under test, the live (sysfs) fixture topology, and a fake sysfs tree that lets the real
 * lspci read that same topology through its linux-sysfs back end.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LspciDevice, LspciIo } from '../../src/lab/lspci/index.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'lspci');
export const TEST_IDS = join(FIXTURES, 'test.ids');
/** Prepended to every fixture run: the pinned ID list, and no udev hwdb names for the real lspci. */
export const COMMON_ARGS = ['-i', TEST_IDS, '-O', 'hwdb.disable=1'];

export const nodeIo: LspciIo = { readFile: (path) => readFileSync(path, 'utf8') };

export interface Cases {
  dump: Array<{ file: string; args: string[] }>;
  live: Array<{ args: string[] }>;
}

export const cases: Cases = JSON.parse(readFileSync(join(FIXTURES, 'cases.json'), 'utf8'));

/** The expected-output file name regen.py uses for a case. */
export function caseName(prefix: string, args: string[]): string {
  const joined = args.join('_').replace(/[^A-Za-z0-9.]+/g, '_');
  return `${prefix}__${joined === '' ? 'plain' : joined}.out`;
}

export function expected(prefix: string, args: string[]): string {
  return readFileSync(join(FIXTURES, 'expected', caseName(prefix, args)), 'utf8');
}

/** All bytes of a single-device dump file, in order (the fixtures are contiguous from 00). */
export function dumpBytes(file: string): Uint8Array {
  const bytes: number[] = [];
  for (const line of readFileSync(join(FIXTURES, file), 'utf8').split('\n')) {
    const m = /^([0-9a-f]{2,8}): (.*)$/.exec(line);
    if (m) for (const b of m[2]!.split(' ')) bytes.push(Number.parseInt(b, 16));
  }
  return Uint8Array.from(bytes);
}

interface LiveFixtureDevice {
  slot: string;
  dump: string;
  vendor: string;
  device: string;
  class: string;
  irq: number;
  subsystem_vendor: string;
  subsystem_device: string;
  driver?: string;
  resources: Array<[string, string, string]>;
}

export const liveTopology: { devices: LiveFixtureDevice[] } = JSON.parse(
  readFileSync(join(FIXTURES, 'live-topology.json'), 'utf8'),
);

function slotBdf(slot: string): { domain: number; bus: number; devfn: number } {
  const [domain, bus, df] = slot.split(':');
  const [dev, fn] = df!.split('.');
  return {
    domain: Number.parseInt(domain!, 16),
    bus: Number.parseInt(bus!, 16),
    devfn: (Number.parseInt(dev!, 16) << 3) | Number(fn),
  };
}

/** The live fixture topology as LspciDevices with their sysfs view. */
export function liveDevices(): LspciDevice[] {
  return liveTopology.devices.map((d) => ({
    bdf: slotBdf(d.slot) as LspciDevice['bdf'],
    config: dumpBytes(d.dump),
    sysfs: {
      vendor: Number(d.vendor),
      device: Number(d.device),
      subsystemVendor: Number(d.subsystem_vendor),
      subsystemDevice: Number(d.subsystem_device),
      classCode: Number(d.class),
      irq: d.irq,
      resources: d.resources.map(([s, e, f]) => ({ start: BigInt(s), end: BigInt(e), flags: BigInt(f) })),
      ...(d.driver !== undefined ? { driver: d.driver } : {}),
    },
  }));
}

const hex16 = (v: bigint): string => `0x${v.toString(16).padStart(16, '0')}`;

/** A sysfs tree (devices/<slot>/{config,vendor,...}) for `lspci -A linux-sysfs -O sysfs.path=<root>`. */
export function writeFakeSysfs(devices: LspciDevice[]): string {
  const root = mkdtempSync(join(tmpdir(), 'vfiolab-lspci-sysfs-'));
  for (const d of devices) {
    const { domain, bus, devfn } = d.bdf;
    const slot = `${domain.toString(16).padStart(4, '0')}:${bus.toString(16).padStart(2, '0')}:${(devfn >> 3)
      .toString(16)
      .padStart(2, '0')}.${devfn & 7}`;
    const dir = join(root, 'devices', slot);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config'), d.config);
    const s = d.sysfs!;
    const h4 = (n: number): string => `0x${n.toString(16).padStart(4, '0')}\n`;
    writeFileSync(join(dir, 'vendor'), h4(s.vendor));
    writeFileSync(join(dir, 'device'), h4(s.device));
    writeFileSync(join(dir, 'subsystem_vendor'), h4(s.subsystemVendor));
    writeFileSync(join(dir, 'subsystem_device'), h4(s.subsystemDevice));
    writeFileSync(join(dir, 'class'), `0x${s.classCode.toString(16).padStart(6, '0')}\n`);
    writeFileSync(join(dir, 'irq'), `${s.irq}\n`);
    writeFileSync(
      join(dir, 'resource'),
      s.resources.map((r) => `${hex16(r.start)} ${hex16(r.end)} ${hex16(r.flags)}\n`).join(''),
    );
    if (s.driver !== undefined) {
      mkdirSync(join(root, 'drivers', s.driver), { recursive: true });
      symlinkSync(join('..', '..', 'drivers', s.driver), join(dir, 'driver'));
    }
  }
  return root;
}

/** The oracle; VFIOLAB_REAL_LSPCI points elsewhere (an absent path shows the tests skipping). */
export const REAL_LSPCI = process.env.VFIOLAB_REAL_LSPCI ?? '/usr/bin/lspci';

/** The real lspci, when it is pciutils 3.9.0 (the version this clone reproduces). */
export function realLspciVersion(): string | undefined {
  if (!existsSync(REAL_LSPCI)) return undefined;
  try {
    return execFileSync(REAL_LSPCI, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

/** Run the real lspci; its stdout and exit status (stderr is not compared: libkmod noise). */
export function runReal(args: string[]): { stdout: string; status: number } {
  try {
    return {
      stdout: execFileSync(REAL_LSPCI, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
      status: 0,
    };
  } catch (e) {
    const err = e as { stdout?: string; status?: number };
    return { stdout: err.stdout ?? '', status: err.status ?? -1 };
  }
}
