/** The host shell: its command table on one host, with the host's sysfs as its file tree. */
import type { Host } from '../host/host.js';
import { Shell } from '../shell/shell.js';
import { devlinkCommand } from './devlink.js';
import { ethtoolCommand } from './ethtool.js';
import { fnCommand } from './fn/fn-tool.js';
import { fsCommands } from './fs.js';
import { ipCommand } from './ip.js';
import { dmesgCommand, lsmodCommand, modprobeCommand, rmmodCommand, udevadmCommand } from './kernel-tools.js';
import { lspciCommand } from './lspci.js';
import { tcpdumpCommands } from './tcpdump.js';
import { textCommands } from './text.js';
import { vdpaCommand } from './vdpa.js';
import { vfioCommand } from './vfio.js';
import { virtioAdminCommand } from './virtio-admin.js';

export interface HostShellOptions {
  readonly readFile: (path: string) => string;
  readonly wallNowNs: () => number;
  /** Create/truncate and append files on the machine (tcpdump -w); absent: such writes fail. */
  readonly writeFile?: (path: string, data: Uint8Array) => void;
  readonly appendFile?: (path: string, data: Uint8Array) => void;
}

export function createHostShell(host: Host, o: HostShellOptions): Shell {
  const k = host.kernel;
  const fs = k.sysfs;
  // The fs commands resolve relative paths against the shell's working directory.
  const ref: { shell?: Shell } = {};
  const { writeFile, appendFile } = o;
  const files = writeFile && appendFile ? { writeFile, appendFile } : undefined;
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
    devlinkCommand(k),
    vdpaCommand(k),
    fnCommand(k),
    ipCommand(k.net),
    ...tcpdumpCommands(k.net, files),
  ];
  ref.shell = new Shell({ host, wallNowNs: o.wallNowNs, fs, settle: () => k.settle() }, commands);
  return ref.shell;
}
