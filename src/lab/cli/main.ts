/**
 * The `vfiolab` command line. Subcommands: demo (npm start), shell (`--netlink-pcap FILE` records the
 * host's netlink traffic as an nlmon capture would), lspci, topology, bench. Every command that does work
 * can report modeled and wall time, labelled; `--json` gives one JSON document.
 */
import { Command, CommanderError } from 'commander';
import { stringify as toYaml } from 'yaml';
import { badInput, isLabError, type LabError } from '../../base/index.js';
import type { NetlinkBus } from '../../kernel/netlink/index.js';
import { createHostShell } from '../commands/index.js';
import { lspciCommand } from '../commands/lspci.js';
import { type BusCapture, type CaptureFiles, captureBusToFile } from '../pcap/index.js';
import type { Platform } from '../platform.js';
import type { Shell } from '../shell/shell.js';
import { benchPci } from './bench.js';
import { registerBenchCreate } from './bench-create-cli.js';
import { benchSriov } from './bench-sriov.js';
import { benchVfio } from './bench-vfio.js';
import { benchVirtio } from './bench-virtio.js';
import { runDemo } from './demo.js';
import { buildLab, extractHostOptions, type HostOptions } from './options.js';

const collect = (value: string, prev: string[] = []): string[] => [...prev, value];

function withHostOptions(cmd: Command): Command {
  return cmd
    .option('--topology <file>', 'topology file (YAML or JSON); default: the built-in topology')
    .option('--host <name>', 'which host of the topology (default: the first)')
    .option('--seed <n>', 'seed for anything random (default 0)')
    .option('--numvfs <device=n>', 'enable n VFs of a named device at boot (repeatable)', collect);
}

async function runShell(o: HostOptions & { netlinkPcap?: string }, platform: Platform): Promise<number> {
  const lab = buildLab(o, platform);
  const host = lab.host(o.host);
  const files = shellFiles(platform);
  const shell = createHostShell(host, {
    readFile: platform.readFile,
    wallNowNs: () => platform.wallNowNs(),
    ...(files ?? {}),
  });
  const capture =
    o.netlinkPcap === undefined
      ? undefined
      : netlinkPcap(host.kernel.netlink, files, o.netlinkPcap, (e) =>
          platform.stderr(`vfiolab: --netlink-pcap: ${e.message}; capture stopped\n`),
        );
  try {
    return await shellLoop(shell, host.name, platform);
  } finally {
    capture?.stop();
  }
}

/** The platform's file writes in the form the shell and captures take them, when it has both. */
function shellFiles(platform: Platform): CaptureFiles | undefined {
  const append = platform.appendFile;
  if (append === undefined) return undefined;
  return {
    writeFile: (path, data) => platform.writeFile(path, data),
    appendFile: (path, data) => append.call(platform, path, data),
  };
}

function netlinkPcap(
  bus: NetlinkBus,
  files: CaptureFiles | undefined,
  path: string,
  onError: (e: LabError) => void,
): BusCapture {
  if (files === undefined) throw badInput(`--netlink-pcap ${path}: this platform cannot write files`);
  return captureBusToFile(bus, files, path, onError);
}

async function shellLoop(shell: Shell, hostName: string, platform: Platform): Promise<number> {
  if (platform.stdinIsTty) {
    platform.stdout(
      `vfiolab shell on modeled host ${hostName}. Type 'help' for commands, 'exit' to leave.\n`,
    );
  }
  for await (const line of platform.readLines(() => shell.prompt)) {
    const r = shell.execute(line);
    platform.stdout(r.stdout);
    platform.stderr(r.stderr);
    if (r.exit !== undefined) return r.exit;
  }
  return shell.lastStatus;
}

export async function runCli(argv: readonly string[], platform: Platform): Promise<number> {
  // lspci takes pciutils' own short options, so it bypasses the option parser.
  if (argv[0] === 'lspci') {
    try {
      const { options, rest } = extractHostOptions(argv.slice(1));
      const lab = buildLab(options, platform);
      const host = lab.host(options.host);
      const cmd = lspciCommand(host, platform.readFile);
      return cmd.run(rest, { out: platform.stdout, err: platform.stderr });
    } catch (e) {
      if (!isLabError(e)) throw e;
      platform.stderr(`vfiolab: ${e.message}\n`);
      return 2;
    }
  }
  let status = 0;
  const program = new Command('vfiolab')
    .description('An executable, byte-faithful model of the Linux device-virtualization stack')
    .exitOverride()
    .configureOutput({ writeOut: platform.stdout, writeErr: platform.stderr })
    .showHelpAfterError();
  program
    .command('demo', { isDefault: true })
    .description('boot the default topology and show its device tree')
    .action(() => {
      status = runDemo(platform);
    });
  withHostOptions(
    program
      .command('shell')
      .description('a shell on one modeled host (reads stdin when it is not a terminal)'),
  )
    .option('--netlink-pcap <file>', 'record every netlink message of the host to a pcap file (nlmon format)')
    .action(async (o: HostOptions & { netlinkPcap?: string }) => {
      status = await runShell(o, platform);
    });
  program
    .command('lspci')
    .description(
      'list PCI devices of a modeled host, as pciutils lspci (takes lspci options and --topology/--host/--numvfs)',
    );
  withHostOptions(
    program
      .command('topology')
      .description('validate a topology and print it as YAML (default: the built-in one)'),
  )
    .option('--json', 'print JSON instead of YAML')
    .action((o: HostOptions & { json?: boolean }) => {
      const lab = buildLab(o, platform);
      platform.stdout(o.json ? `${JSON.stringify(lab.topology, null, 2)}\n` : toYaml(lab.topology));
    });
  const bench = program.command('bench').description('benchmarks: print JSON that compares paths as ratios');
  bench
    .command('pci')
    .description('config reads per second on three paths; enabling 1024 VFs, wall and modeled')
    .option('--json', 'print JSON (the default and only format)')
    .option('--reads <n>', 'config reads per run', '200000')
    .option('--runs <n>', 'repetitions (medians are reported)', '5')
    .action((o: { reads: string; runs: string }) => {
      const reads = Number(o.reads);
      const runs = Number(o.runs);
      if (!Number.isInteger(reads) || reads < 1 || !Number.isInteger(runs) || runs < 1) {
        platform.stderr('vfiolab bench pci: --reads and --runs must be positive integers\n');
        status = 2;
        return;
      }
      platform.stdout(`${JSON.stringify(benchPci(platform, { reads, runs }))}\n`);
    });
  registerBenchCreate(bench, platform, (code) => {
    status = code;
  });
  bench
    .command('sriov')
    .description('enable VFs with autoprobe on (a driver per VF) and off, then bind all via driver_override')
    .option('--json', 'print JSON (the default and only format)')
    .option('--vfs <n>', 'how many VFs of the virtio-net PF', '1024')
    .option('--driver <name>', 'driver to bind the VFs to through driver_override', 'pci-stub')
    .option('--runs <n>', 'repetitions (wall times are medians)', '3')
    .action((o: { vfs: string; driver: string; runs: string }) => {
      const vfs = Number(o.vfs);
      const runs = Number(o.runs);
      if (!Number.isInteger(vfs) || vfs < 1 || vfs > 1024 || !Number.isInteger(runs) || runs < 1) {
        platform.stderr('vfiolab bench sriov: --vfs must be an integer from 1 to 1024, --runs positive\n');
        status = 2;
        return;
      }
      platform.stdout(`${JSON.stringify(benchSriov(platform, { vfs, driver: o.driver, runs }))}\n`);
    });
  bench
    .command('virtio')
    .description(
      'admin commands per second and frames per second through the virtio-net PF, wall and modeled',
    )
    .option('--json', 'print JSON (the default and only format)')
    .option('--commands <n>', 'admin commands per run', '20000')
    .option('--frames <n>', 'frames per run', '20000')
    .option('--runs <n>', 'repetitions (wall figures are medians)', '3')
    .action((o: { commands: string; frames: string; runs: string }) => {
      const [commands, frames, runs] = [Number(o.commands), Number(o.frames), Number(o.runs)];
      if (![commands, frames, runs].every((n) => Number.isInteger(n) && n > 0)) {
        platform.stderr('vfiolab bench virtio: --commands, --frames and --runs must be positive integers\n');
        status = 2;
        return;
      }
      platform.stdout(`${JSON.stringify(benchVirtio(platform, { commands, frames, runs }))}\n`);
    });
  bench
    .command('vfio')
    .description('open (with FLR) of many VFIO devices, serialized per bus and parallel; state save/restore')
    .option('--json', 'print JSON (the default and only format)')
    .option('--devices <n>', 'how many virtio-net VFs to bind to vfio-pci and open', '1000')
    .option(
      '--state-bytes <n>',
      'unused (kept for compatibility): the real driver saves what the device holds',
      '65536',
    )
    .option('--rounds <n>', 'save/restore rounds per run', '200')
    .option('--runs <n>', 'repetitions of save/restore (wall figures are medians)', '3')
    .action((o: { devices: string; stateBytes: string; rounds: string; runs: string }) => {
      const [devices, stateBytes, rounds, runs] = [o.devices, o.stateBytes, o.rounds, o.runs].map(Number) as [
        number,
        number,
        number,
        number,
      ];
      if (
        !Number.isInteger(devices) ||
        devices < 2 ||
        devices > 1024 ||
        ![stateBytes, rounds, runs].every((n) => Number.isInteger(n) && n > 0)
      ) {
        platform.stderr(
          'vfiolab bench vfio: --devices must be an integer from 2 to 1024; --state-bytes, --rounds, --runs positive\n',
        );
        status = 2;
        return;
      }
      platform.stdout(`${JSON.stringify(benchVfio(platform, { devices, stateBytes, rounds, runs }))}\n`);
    });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return status;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (isLabError(e)) {
      platform.stderr(`vfiolab: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
