/**
 * `virtio-admin PF_BDF COMMAND [--member N] [options] [--json]`: send one virtio admin command through
 * the PF driver's admin virtqueue and print what the device answered — status and qualifier by their
 * spec names, the result decoded, and the result bytes in hex. A device developer's debugging tool
 * (there is no Linux equivalent; the command names are the spec's opcode names in kebab-case).
 *
 * The command goes through virtio-pci's admin queue exactly as an in-kernel caller's would, including
 * the driver's supported_cmds check; `--force` skips that check to see how the device answers an
 * opcode the driver did not enable. `--data HEX` replaces the command-specific data built from the
 * options; `--result-size N` sets the result buffer (default: the command's natural size).
 */
import { encodeStruct, LabError, type StructDesc } from '../../base/index.js';
import {
  ADMIN_CMDS,
  type AdminCmdName,
  decodeDevParts,
  decodeDevPartsMetadata,
  decodeIdBitmap,
  opcodeName,
  parseAdminResult,
  qualifierName,
  statusName,
} from '../../hw/virtio/index.js';
import { type AdminCmdOutcome, type Kernel, virtioPciPfAdminQueue } from '../../kernel/index.js';
import { vadmin } from '../../spec/index.js';
import type { CommandIo, ShellCommand } from '../shell/command.js';

const USAGE =
  'usage: virtio-admin PF_BDF COMMAND [--member N] [--group self|sriov] [--offset N] [--size N] ' +
  '[--data HEX] [--obj-id N] [--obj-type N] [--type N] [--flags N] [--cap-id N] [--result-size N] ' +
  '[--force] [--json]\n';

/** Natural result buffer sizes (Linux's for the commands it sends; 4 KiB for parts). */
const DEFAULT_RESULT_BYTES: Partial<Record<AdminCmdName, number>> = {
  'list-query': 8,
  'cap-id-list-query': 8,
  'device-cap-get': 2,
  'legacy-notify-info': vadmin.VirtioAdminCmdLegacyNotifyInfoResult.sizeBytes,
  'dev-parts-metadata-get': 8,
  'dev-parts-get': 4096,
  'resource-obj-query': 64,
};

interface Options {
  member: bigint;
  group: number | undefined;
  offset: number;
  size: number;
  data: Uint8Array | undefined;
  objId: number;
  objType: number;
  type: number;
  flags: number;
  capId: number;
  resultSize: number | undefined;
  force: boolean;
  json: boolean;
}

function parseNumber(name: string, text: string | undefined): number {
  const v = text === undefined ? Number.NaN : Number(text);
  if (!Number.isSafeInteger(v) || v < 0)
    throw new LabError('bad-input', `virtio-admin: bad value for ${name}`);
  return v;
}

function parseHex(text: string | undefined): Uint8Array {
  const clean = (text ?? '').replace(/^0x/i, '').replace(/[\s:]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) {
    throw new LabError('bad-input', `virtio-admin: --data wants hex bytes, not '${text ?? ''}'`);
  }
  return Uint8Array.from(clean.match(/../g) ?? [], (x) => Number.parseInt(x, 16));
}

const hex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

function parseOptions(args: readonly string[]): Options {
  const o: Options = {
    member: 0n,
    group: undefined,
    offset: 0,
    size: 1,
    data: undefined,
    objId: 0,
    objType: vadmin.VIRTIO_RESOURCE_OBJ_DEV_PARTS,
    type: 0,
    flags: 0,
    capId: vadmin.VIRTIO_DEV_PARTS_CAP,
    resultSize: undefined,
    force: false,
    json: false,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = (): string | undefined => args[++i];
    switch (a) {
      case '--member':
        o.member = BigInt(parseNumber(a, next()));
        break;
      case '--group': {
        const g = next();
        if (g === 'self') o.group = vadmin.VIRTIO_ADMIN_GROUP_TYPE_SELF;
        else if (g === 'sriov') o.group = vadmin.VIRTIO_ADMIN_GROUP_TYPE_SRIOV;
        else o.group = parseNumber(a, g);
        break;
      }
      case '--offset':
        o.offset = parseNumber(a, next());
        break;
      case '--size':
        o.size = parseNumber(a, next());
        break;
      case '--data':
        o.data = parseHex(next());
        break;
      case '--obj-id':
        o.objId = parseNumber(a, next());
        break;
      case '--obj-type':
        o.objType = parseNumber(a, next());
        break;
      case '--type':
        o.type = parseNumber(a, next());
        break;
      case '--flags':
        o.flags = parseNumber(a, next());
        break;
      case '--cap-id':
        o.capId = parseNumber(a, next());
        break;
      case '--result-size':
        o.resultSize = parseNumber(a, next());
        break;
      case '--force':
        o.force = true;
        break;
      case '--json':
        o.json = true;
        break;
      default:
        throw new LabError('bad-input', `virtio-admin: unknown option '${a}'`);
    }
  }
  return o;
}

/** The command-specific data the options describe, through the command's own struct descriptor. */
function buildData(name: AdminCmdName, o: Options): Uint8Array {
  if (o.data !== undefined) return o.data;
  const objHdr = { type: o.objType, id: o.objId };
  const values: Record<AdminCmdName, unknown> = {
    'list-query': {},
    'list-use': { deviceAdminCmdOpcodes: new Uint8Array(8) },
    'legacy-common-cfg-write': { offset: o.offset, data: new Uint8Array(o.size) },
    'legacy-common-cfg-read': { offset: o.offset },
    'legacy-dev-cfg-write': { offset: o.offset, data: new Uint8Array(o.size) },
    'legacy-dev-cfg-read': { offset: o.offset },
    'legacy-notify-info': {},
    'cap-id-list-query': {},
    'device-cap-get': { id: o.capId },
    'driver-cap-set': { id: o.capId, capSpecificData: new Uint8Array(0) },
    'resource-obj-create': {
      hdr: objHdr,
      flags: 0n,
      resourceObjSpecificData: Uint8Array.of(o.type, 0, 0, 0, 0, 0, 0, 0),
    },
    'resource-obj-modify': { hdr: objHdr, flags: 0n, resourceObjSpecificData: new Uint8Array(0) },
    'resource-obj-query': { hdr: objHdr, flags: 0n },
    'resource-obj-destroy': objHdr,
    'dev-parts-metadata-get': { hdr: objHdr, type: o.type },
    'dev-parts-get': { hdr: objHdr, type: o.type, hdrList: new Uint8Array(0) },
    'dev-parts-set': { hdr: objHdr, parts: new Uint8Array(0) },
    'dev-mode-set': { flags: o.flags },
  };
  return encodeStruct(ADMIN_CMDS[name].data as StructDesc<unknown>, values[name]);
}

/** Plain JSON values: bigints as numbers when exact (else strings), bytes as hex. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (v instanceof Uint8Array) return hex(v);
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

/** The result decoded by its struct, plus the lists and unions the raw struct leaves as bytes. */
function decodeResult(name: AdminCmdName, out: AdminCmdOutcome, o: Options): Record<string, unknown> {
  const writable = new Uint8Array(vadmin.VirtioAdminCmdStatus.sizeBytes + out.result.length);
  writable.set(out.result, vadmin.VirtioAdminCmdStatus.sizeBytes);
  const used = vadmin.VirtioAdminCmdStatus.sizeBytes + out.resultSizeBytes;
  const parsed = parseAdminResult(name, writable, used).result as Record<string, unknown>;
  const fields = plain(parsed) as Record<string, unknown>;
  const bytes = out.result.subarray(0, Math.min(out.resultSizeBytes, out.result.length));
  if (name === 'list-query') {
    fields['opcodes'] = decodeIdBitmap(bytes).map((op) => opcodeName(op) ?? `0x${op.toString(16)}`);
  } else if (name === 'cap-id-list-query') {
    fields['capIds'] = decodeIdBitmap(bytes);
  } else if (name === 'dev-parts-metadata-get' && out.status === vadmin.VIRTIO_ADMIN_STATUS_OK) {
    try {
      fields['metadataDecoded'] = plain(decodeDevPartsMetadata(o.type, bytes));
    } catch {
      // An unknown metadata type: only the raw bytes.
    }
  } else if (name === 'dev-parts-get' && out.status === vadmin.VIRTIO_ADMIN_STATUS_OK) {
    try {
      fields['partsDecoded'] = decodeDevParts(bytes).map((p) => ({
        partType: `0x${p.partType.toString(16)}`,
        flags: p.flags,
        selector: hex(p.selector),
        length: p.value.length,
        value: hex(p.value),
      }));
    } catch {
      // A truncated list (result buffer too small): only the raw bytes.
    }
  }
  return fields;
}

function groupName(g: number): string {
  if (g === vadmin.VIRTIO_ADMIN_GROUP_TYPE_SELF) return 'self';
  if (g === vadmin.VIRTIO_ADMIN_GROUP_TYPE_SRIOV) return 'sriov';
  return String(g);
}

function formatText(io: CommandIo, summary: Record<string, unknown>, result: Record<string, unknown>): void {
  io.out(
    `${summary['command']} (opcode 0x${(summary['opcode'] as number).toString(16)}) group ${summary['group']} member ${summary['member']}\n`,
  );
  io.out(`status: ${summary['status']} (${summary['statusValue']})\n`);
  io.out(`qualifier: ${summary['qualifier']} (${summary['qualifierValue']})\n`);
  for (const [k, v] of Object.entries(result)) {
    io.out(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}\n`);
  }
  io.out(`result (${summary['resultBytes']} bytes): ${summary['resultHex']}\n`);
}

export function virtioAdminCommand(k: Kernel): ShellCommand {
  return {
    name: 'virtio-admin',
    summary: "send one virtio admin command through a PF driver's admin queue (--json for one JSON line)",
    run(args, io) {
      const [bdf, cmdName, ...rest] = args;
      if (bdf === undefined || cmdName === undefined) {
        io.err(USAGE);
        return 2;
      }
      if (!Object.hasOwn(ADMIN_CMDS, cmdName)) {
        io.err(
          `virtio-admin: unknown command '${cmdName}' (one of: ${Object.keys(ADMIN_CMDS).join(', ')})\n`,
        );
        return 2;
      }
      const name = cmdName as AdminCmdName;
      let o: Options;
      try {
        o = parseOptions(rest);
      } catch (e) {
        io.err(`${(e as Error).message}\n${USAGE}`);
        return 2;
      }
      const pfName = bdf.split(':').length === 2 ? `0000:${bdf}` : bdf;
      const pf = k.findPciDevice(pfName);
      if (pf === undefined) {
        io.err(`virtio-admin: ${bdf}: No such device\n`);
        return 1;
      }
      const layout = ADMIN_CMDS[name];
      const group =
        o.group ??
        (layout.groupTypes.includes(vadmin.VIRTIO_ADMIN_GROUP_TYPE_SRIOV)
          ? vadmin.VIRTIO_ADMIN_GROUP_TYPE_SRIOV
          : vadmin.VIRTIO_ADMIN_GROUP_TYPE_SELF);
      const isRead = name === 'legacy-common-cfg-read' || name === 'legacy-dev-cfg-read';
      const resultSize = o.resultSize ?? (isRead ? o.size : (DEFAULT_RESULT_BYTES[name] ?? 0));
      let out: AdminCmdOutcome;
      try {
        const data = buildData(name, o);
        out = virtioPciPfAdminQueue(pf).execRaw(
          {
            opcode: layout.opcode,
            groupType: group,
            groupMemberId: o.member,
            ...(data.length === 0 ? {} : { data }),
            resultSizeBytes: resultSize,
          },
          { unchecked: o.force },
        );
      } catch (e) {
        if (!(e instanceof LabError)) throw e;
        io.err(`virtio-admin: ${pfName} ${name}: ${e.message}\n`);
        return 1;
      }
      const resultBytes = out.result.subarray(0, Math.min(out.resultSizeBytes, out.result.length));
      const summary: Record<string, unknown> = {
        command: name,
        opcode: layout.opcode,
        group: groupName(group),
        member: Number(o.member),
        status: statusName(out.status),
        statusValue: out.status,
        qualifier: qualifierName(out.statusQualifier),
        qualifierValue: out.statusQualifier,
        resultBytes: out.resultSizeBytes,
        resultHex: hex(resultBytes),
      };
      const result = decodeResult(name, out, o);
      if (o.json) io.out(`${JSON.stringify({ ...summary, result })}\n`);
      else formatText(io, summary, result);
      return out.status === vadmin.VIRTIO_ADMIN_STATUS_OK ? 0 : 1;
    },
  };
}
