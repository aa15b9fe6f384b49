/**
 * The kernel's user-space tools on a modeled host: dmesg, modprobe, rmmod, lsmod and udevadm
 * (monitor, settle, trigger), with util-linux's, kmod's and systemd's output formats and errors.
 *
 * SPEC-DEVIATION: `udevadm monitor` cannot wait for future events in a scripted shell; it prints the
 * events received since the previous `udevadm monitor` (the first time: since boot) and returns.
 */
import { LabError } from '../../base/index.js';
import { formatMonitor, type Kernel, ModuleError } from '../../kernel/index.js';
import type { CommandIo, ShellCommand } from '../shell/command.js';

const LEVELS = ['err', 'warn', 'info', 'debug'] as const;

export function dmesgCommand(k: Kernel): ShellCommand {
  return {
    name: 'dmesg',
    summary: 'print the kernel log (-t without timestamps, -l LEVEL[,LEVEL], -c clear after printing)',
    run(args, io) {
      let stamps = true;
      let clear = false;
      let levels: Set<string> | undefined;
      for (let i = 0; i < args.length; i++) {
        const a = args[i]!;
        if (a === '-t' || a === '--notime') stamps = false;
        else if (a === '-c' || a === '--read-clear') clear = true;
        else if (a === '-l' || a === '--level') {
          const v = args[++i];
          const list = (v ?? '').split(',');
          const bad = list.find((l) => !(LEVELS as readonly string[]).includes(l));
          if (v === undefined || bad !== undefined) {
            io.err(`dmesg: unknown level '${bad ?? ''}'\n`);
            return 1;
          }
          levels = new Set(list);
        } else {
          io.err(
            `dmesg: invalid option -- '${a.replace(/^-+/, '')}'\nTry 'dmesg --help' for more information.\n`,
          );
          return 1;
        }
      }
      for (const r of k.log.records) {
        if (levels !== undefined && !levels.has(r.level)) continue;
        io.out(stamps ? `${k.log.format(r)}\n` : `${r.text}\n`);
      }
      if (clear) k.log.clear();
      return 0;
    },
  };
}

function moduleErrors(io: CommandIo, f: () => void): number {
  try {
    f();
    return 0;
  } catch (e) {
    if (e instanceof ModuleError) {
      io.err(`${e.message}\n`);
      return 1;
    }
    if (e instanceof LabError) {
      io.err(`modprobe: ERROR: could not insert module: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

export function modprobeCommand(k: Kernel): ShellCommand {
  return {
    name: 'modprobe',
    summary:
      'load a module by name or alias with its dependencies, then key=value parameters (-r remove, -q quiet)',
    run(args, io) {
      const flags = args.filter((a) => a.startsWith('-'));
      const names = args.filter((a) => !a.startsWith('-'));
      const unknown = flags.find(
        (f) => !['-r', '--remove', '-q', '--quiet', '-b', '--use-blacklist'].includes(f),
      );
      if (unknown !== undefined) {
        io.err(`modprobe: unrecognized option '${unknown}'\n`);
        return 1;
      }
      if (names.length === 0) {
        io.err('modprobe: ERROR: missing parameters. See -h.\n');
        return 1;
      }
      const quiet = flags.includes('-q') || flags.includes('--quiet');
      if (flags.includes('-r') || flags.includes('--remove')) {
        return moduleErrors(io, () => {
          for (const n of names) k.modules.modprobeRemove(n);
        });
      }
      // modprobe NAME takes the rest as module parameters (key=value, or a bare key for a bool).
      return moduleErrors(io, () => k.modules.modprobe(names[0]!, quiet, names.slice(1)));
    },
  };
}

export function rmmodCommand(k: Kernel): ShellCommand {
  return {
    name: 'rmmod',
    summary: 'remove a module',
    run(args, io) {
      if (args.length === 0) {
        io.err('rmmod: ERROR: missing module name.\n');
        return 1;
      }
      let status = 0;
      for (const n of args) status |= moduleErrors(io, () => k.modules.rmmod(n));
      return status;
    },
  };
}

export function lsmodCommand(k: Kernel): ShellCommand {
  return {
    name: 'lsmod',
    summary: 'list loaded modules',
    run(args, io) {
      if (args.length > 0) {
        io.err('Usage: lsmod\n');
        return 1;
      }
      io.out(k.modules.lsmod());
      return 0;
    },
  };
}

export function udevadmCommand(k: Kernel): ShellCommand {
  let seen = 0;
  return {
    name: 'udevadm',
    summary: 'udevadm monitor [--kernel] [--property] | settle | trigger',
    run(args, io) {
      const [sub, ...rest] = args;
      if (sub === 'settle') {
        k.settle();
        return 0;
      }
      if (sub === 'trigger') {
        // Replays "add" for every device, as coldplug does; udev then loads what is missing.
        for (const dev of [...k.core.devices('pci'), ...k.core.devices('auxiliary')])
          k.core.uevent(dev, 'add');
        k.settle();
        return 0;
      }
      if (sub !== 'monitor') {
        io.err(sub === undefined ? 'udevadm: missing command\n' : `udevadm: unknown command '${sub}'\n`);
        return 2;
      }
      const property = rest.includes('--property') || rest.includes('-p');
      const bad = rest.find((r) => !['--kernel', '-k', '--property', '-p'].includes(r));
      if (bad !== undefined) {
        io.err(`udevadm monitor: unrecognized option '${bad}'\n`);
        return 2;
      }
      io.out('monitor will print the received events for:\nKERNEL - the kernel uevent\n\n');
      io.out(formatMonitor(k.udev.events.slice(seen), property));
      seen = k.udev.events.length;
      return 0;
    },
  };
}
