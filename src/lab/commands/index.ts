/** The host shell: its command table on one host, with the host's sysfs as its file tree. */
import type { Host } from '../host/host.js';
import { Shell } from '../shell/shell.js';
import { ethtoolCommand } from './ethtool.js';
import { fsCommands } from './fs.js';
import { dmesgCommand, lsmodCommand, modprobeCommand, rmmodCommand, udevadmCommand } from './kernel-tools.js';
import { lspciCommand } from './lspci.js';
import { textCommands } from './text.js';
import { vfioCommand } from './vfio.js';
import { virtioAdminCommand } from './virtio-admin.js';

export interface HostShellOptions {
  readonly readFile: (path: string) => string;
  readonly wallNowNs: () => number;
}

export function createHostShell(host: Host, o: HostShellOptions): Shell {
  const k = host.kernel;
  const fs = k.sysfs;
  // The fs commands resolve relative paths against the shell's working directory.
  const ref: { shell?: Shell } = {};
  const commands = [
    ...fsCommands({ fs, absolutePath: (p) => ref.shell!.absolutePath(p) }),
    ...textCommands({ fs, absolutePath: (p) => ref.shell!.absolutePath(p) }),
    lspciCommand(host, o.readFile),
    dmesgCommand(k),
    modprobeCommand(k),
    rmmodCommand(k),
    lsmodCommand(k),
    udevadmCommand(k),
    virtioAdminCommand(k),
    ethtoolCommand(k),
    vfioCommand(k),
  ];
  ref.shell = new Shell({ host, wallNowNs: o.wallNowNs, fs, settle: () => k.settle() }, commands);
  return ref.shell;
}
