/** The `vfio` shell command: argument dispatch, output (text or --json) and error reporting. See ../vfio.ts for the tool's description. */
import { isLabError } from '../../../base/index.js';
import type { Kernel } from '../../../kernel/index.js';
import { ERRNO_MESSAGE } from '../../../spec/index.js';
import type { CommandIo, ShellCommand } from '../../shell/command.js';
import { dirty } from './dirty.js';
import { type Reply, USAGE, UsageError } from './format.js';
import { dataSize, listFiles, load, migState, precopyInfo, save } from './mig.js';
import { access, info, list, reset } from './regions.js';
import { type Session, vfioSession } from './session.js';
import type { ScratchUserMemory } from './user-memory.js';

export interface VfioTool extends ShellCommand {
  /** The in-shell scratch store that `mig save`/`mig load` use (path -> bytes). */
  readonly files: Map<string, Uint8Array>;
  /** The tool process's memory (DMA logging ranges and bitmaps live here). */
  readonly userMemory: ScratchUserMemory;
}

export function vfioCommand(k: Kernel): VfioTool {
  const ses = vfioSession(k);

  return {
    name: 'vfio',
    summary:
      'drive VFIO devices as QEMU would: list, info, read/write, reset, migration state, dirty logging (--json)',
    files: ses.files,
    userMemory: ses.userMemory,
    run(argv, io) {
      const json = argv.includes('--json');
      const args = argv.filter((a) => a !== '--json');
      try {
        const r = dispatch(ses, args);
        const failed = r.failed === true;
        if (json) io.out(`${JSON.stringify(r.json)}\n`);
        else if (failed) {
          for (const line of r.text.slice(0, -1)) io.out(`${line}\n`);
          io.err(`${r.text[r.text.length - 1]}\n`);
        } else for (const line of r.text) io.out(`${line}\n`);
        return failed ? 1 : 0;
      } catch (e) {
        return report(e, args, json, io);
      }
    },
  };
}

function dispatch(ses: Session, args: readonly string[]): Reply {
  const [sub, dev, ...rest] = args;
  const want = (n: number): void => {
    if (dev === undefined || rest.length !== n)
      throw new UsageError(`wrong number of arguments for '${sub}'`);
  };
  switch (sub) {
    case 'list':
      if (dev !== undefined) throw new UsageError('list takes no arguments');
      return list(ses);
    case 'files':
      if (dev !== undefined) throw new UsageError('files takes no arguments');
      return listFiles(ses);
    case 'info':
      want(0);
      return info(ses, dev!);
    case 'read':
      want(3);
      return access(ses, dev!, rest[0]!, rest[1]!, rest[2]!);
    case 'write':
      want(4);
      return access(ses, dev!, rest[0]!, rest[1]!, rest[2]!, rest[3]!);
    case 'reset':
      want(0);
      return reset(ses, dev!);
    case 'mig': {
      if (dev === undefined) throw new UsageError('mig needs DEVICE');
      const [op, arg, extra] = rest;
      const none = (): void => {
        if (arg !== undefined) throw new UsageError(`mig ${op} takes no arguments`);
      };
      const one = (): string => {
        if (arg === undefined || extra !== undefined) throw new UsageError(`mig ${op} needs FILE`);
        return arg;
      };
      switch (op) {
        case 'state':
          if (extra !== undefined) throw new UsageError('mig state takes at most one TARGET');
          return migState(ses, dev, arg);
        case 'save':
          return save(ses, dev, one());
        case 'load':
          return load(ses, dev, one());
        case 'precopy-info':
          none();
          return precopyInfo(ses, dev);
        case 'data-size':
          none();
          return dataSize(ses, dev);
        default:
          throw new UsageError(`unknown mig operation '${op ?? ''}'`);
      }
    }
    case 'dirty':
      if (dev === undefined) throw new UsageError('dirty needs DEVICE');
      return dirty(ses, dev, rest[0], rest.slice(1));
    default:
      throw new UsageError(sub === undefined ? 'missing command' : `unknown command '${sub}'`);
  }
}

function report(e: unknown, args: readonly string[], json: boolean, io: CommandIo): number {
  if (e instanceof UsageError) {
    if (json) io.out(`${JSON.stringify({ errno: 'EINVAL', error: e.message })}\n`);
    else io.err(`vfio: ${e.message}\n${USAGE}`);
    return 2;
  }
  if (isLabError(e) && e.errno !== undefined) {
    const what = args.slice(0, 2).filter((a) => a !== undefined);
    if (json) io.out(`${JSON.stringify({ errno: e.errno })}\n`);
    else io.err(`vfio: ${what.join(' ')}: ${ERRNO_MESSAGE[e.errno]}\n`);
    return 1;
  }
  throw e;
}
