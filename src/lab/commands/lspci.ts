/**
 * `lspci` on a modeled host: the pciutils clone run over what the host's sysfs would show.
 * With -F it decodes a dump file instead, as pciutils does.
 */
import type { Host } from '../host/host.js';
import { lspciDevices } from '../host/lspci-view.js';
import { runLspci } from '../lspci/index.js';
import type { ShellCommand } from '../shell/command.js';

export function lspciCommand(host: Host, readFile: (path: string) => string): ShellCommand {
  return {
    name: 'lspci',
    summary: 'list PCI devices (pciutils options: -n -nn -v -vv -vvv -x -xxx -xxxx -s -d -D -t -k -F)',
    run(args, io) {
      const fromDump = args.some((a) => a === '-F' || /^-[a-zA-Z]*F/.test(a));
      const r = runLspci([...args], fromDump ? [] : lspciDevices(host, args), { readFile });
      io.out(r.stdout);
      io.err(r.stderr);
      return r.status;
    },
  };
}
