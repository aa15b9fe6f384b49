/**
 * Test support for the `vfio` tool: a default host whose virtio-net PF has VFs bound to vfio-pci by
 * driver_override (autoprobe off), the tool run on it with stdout/stderr captured, and a fake migration
 * driver (MigrationFsm.register + migrationFeatureHandlers + registerFeatureHandlers) on a VF.
 * Expected values in the tests are written by hand from facts/kernel.md; nothing here computes them.
 */
import type { Kernel } from '../../src/kernel/index.js';
import {
  type FakeMigrationDriver,
  hostWithVfioVfs,
  registerFakeMigrationDriver,
} from '../../src/lab/cli/bench-vfio.js';
import { type VfioTool, vfioCommand } from '../../src/lab/commands/vfio.js';
import type { Host } from '../../src/lab/index.js';
import { vfio } from '../../src/spec/index.js';

export const SC = vfio.VFIO_MIGRATION_STOP_COPY;
export const P2P = vfio.VFIO_MIGRATION_P2P;
export const PRE = vfio.VFIO_MIGRATION_PRE_COPY;

export interface Run {
  readonly status: number;
  readonly out: string;
  readonly err: string;
}

export interface ToolHost {
  readonly host: Host;
  readonly k: Kernel;
  readonly tool: VfioTool;
  /** Run `vfio ARGS...` (split on spaces). */
  vfio(line: string): Run;
  /** Run `vfio ARGS... --json` and parse its one line. */
  json(line: string): Record<string, unknown>;
  /** A fake migration driver with `flags` on VF n. */
  fake(n: number, flags: number, stateBytes?: number): FakeMigrationDriver;
}

export function toolHost(numVfs = 2): ToolHost {
  const { host } = hostWithVfioVfs(numVfs);
  const k = host.kernel;
  const tool = vfioCommand(k);
  const vfio = (line: string): Run => {
    let out = '';
    let err = '';
    const status = tool.run(
      line.split(' ').filter((a) => a !== ''),
      {
        out: (t) => (out += t),
        err: (t) => (err += t),
      },
    );
    return { status, out, err };
  };
  return {
    host,
    k,
    tool,
    vfio,
    json(line) {
      const r = vfio(`${line} --json`);
      const lines = r.out.split('\n');
      if (lines.length !== 2 || lines[1] !== '') throw new Error(`not one line: ${JSON.stringify(r.out)}`);
      return JSON.parse(lines[0]!) as Record<string, unknown>;
    },
    fake(n, flags, stateBytes = 100) {
      const vdev = k.vfio.devices.filter((d) => d.isVirtfn)[n]!;
      return registerFakeMigrationDriver(k, vdev, { flags, stateBytes });
    },
  };
}
