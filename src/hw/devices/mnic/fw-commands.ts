/**
 * The mnic firmware's lifecycle commands: capabilities, eswitch mode, SF and SIOV function creation
 * and destruction, ENABLE/DISABLE/INIT/TEARDOWN_HCA (vhca-fsm.ts), function MAC and caps, counters.
 * Layouts in spec/mnic-fw.ts. Rules beyond the state machine:
 * - eswitch mode: 0 legacy or 1 switchdev (else BAD_PARAM); leaving switchdev while SFs or SIOV
 *   functions exist is RESOURCE_BUSY.
 * - ALLOC_SF: an sfnum already in use is BAD_PARAM/SFNUM_IN_USE; a full table NO_RESOURCES.
 *   DEALLOC_SF and DESTROY_SIOV_FNS need the function ALLOCATED (else RESOURCE_BUSY).
 * - CREATE_SIOV_FNS: count 0 is BAD_PARAM; all or none: more than the free slots (or than
 *   max_siov_fns) is NO_RESOURCES. DESTROY_SIOV_FNS (count 1..max_siov_fns, else BAD_PARAM)
 *   checks every id (exists, is SIOV, listed once, ALLOCATED) before destroying any.
 * - ENABLE/DISABLE/INIT/TEARDOWN_HCA, one function or a list: fw-hca.ts. ENABLE/DISABLE_HCA of the PF
 *   itself is BAD_PARAM/PF_TARGET (the manager is always enabled).
 * - SET_FN_CAPS: not while the function's driver is attached (IN_USE: RESOURCE_BUSY), known bits
 *   only; MIGRATABLE needs the migration capability.
 * SPEC-DEVIATION: firmware does not require switchdev for ALLOC_SF; the devlink layer checks that
 * (facts/kernel.md 7.3), as mlx5's driver does.
 */
import { decodeStruct, encodeStruct, readLe } from '../../../base/index.js';
import { mnicfw } from '../../../spec/index.js';
import {
  emptyOk,
  type FwCommand,
  type FwEnv,
  type FwResult,
  fwFail,
  fwOk,
  isManager,
  isResult,
  targetOf,
} from './firmware.js';
import { hcaCommand, selfCommand } from './fw-hca.js';
import { FN_KIND_NUMBER, type MnicFunction } from './mnic-function.js';
import { validUnicastMac } from './vhca-saved-state.js';

const S = mnicfw.MNIC_SYNDROME;
const OK = mnicfw.MNIC_STATUS_OK;
const head = { status: OK, syndrome: 0 };
const fixed = (n: number) => (): number => n;

function managedTarget(env: FwEnv, input: Uint8Array): MnicFunction | FwResult {
  const fn = targetOf(env, input);
  if (isResult(fn)) return fn;
  return fn.kind === 'pf' ? fwFail(mnicfw.MNIC_STATUS_BAD_PARAM, S.PF_TARGET) : fn;
}

const queryHcaCap: FwCommand = {
  name: 'QUERY_HCA_CAP',
  opcode: mnicfw.MNIC_CMD_QUERY_HCA_CAP,
  inBytes: mnicfw.MnicCmdInHdr.sizeBytes,
  outBytes: fixed(mnicfw.MnicQueryHcaCapOut.sizeBytes),
  permission: 'any',
  run(env, issuer) {
    const l = env.table.limits;
    const flags =
      (env.migration ? mnicfw.MNIC_HCA_CAP_MIGRATION : 0) |
      (isManager(issuer) ? mnicfw.MNIC_HCA_CAP_ESW_MANAGER : 0) |
      (l.maxSiovFns > 0 ? mnicfw.MNIC_HCA_CAP_SIOV : 0);
    return fwOk(
      encodeStruct(mnicfw.MnicQueryHcaCapOut, {
        ...head,
        pfNum: env.pfNum,
        logMinSfSize: mnicfw.MNIC_LOG_MIN_SF_SIZE,
        sfBar: mnicfw.MNIC_SF_BAR,
        maxSfs: l.maxSfs,
        sfBaseId: mnicfw.MNIC_SF_BASE_ID,
        maxSiovFns: l.maxSiovFns,
        siovBaseId: mnicfw.MNIC_SIOV_BASE_ID,
        siovBar: mnicfw.MNIC_SIOV_BAR,
        capFlags: flags,
        totalVfs: l.totalVfs,
        selfKind: FN_KIND_NUMBER[issuer.kind],
        selfFnId: issuer.fnId,
        selfVhcaId: issuer.vhcaId,
        permanentMac: env.permanentMac.slice(),
        stateBytes: mnicfw.MNIC_STATE_BYTES,
      }),
    );
  },
};

const setEswitchMode: FwCommand = {
  name: 'SET_ESWITCH_MODE',
  opcode: mnicfw.MNIC_CMD_SET_ESWITCH_MODE,
  inBytes: mnicfw.MnicSetEswitchModeIn.sizeBytes,
  outBytes: fixed(mnicfw.MnicEmptyOut.sizeBytes),
  permission: 'manager',
  run(env, _issuer, input) {
    const { mode } = decodeStruct(mnicfw.MnicSetEswitchModeIn, input);
    if (mode !== mnicfw.MNIC_ESWITCH_MODE_LEGACY && mode !== mnicfw.MNIC_ESWITCH_MODE_SWITCHDEV) {
      return fwFail(mnicfw.MNIC_STATUS_BAD_PARAM, S.BAD_ESWITCH_MODE);
    }
    const carved = env.table.sfCount + env.table.siovCount;
    if (mode === mnicfw.MNIC_ESWITCH_MODE_LEGACY && env.eswitchMode !== mode && carved > 0) {
      return fwFail(mnicfw.MNIC_STATUS_RESOURCE_BUSY, S.ESWITCH_BUSY);
    }
    env.eswitchMode = mode;
    return emptyOk();
  },
};

const queryEswitchMode: FwCommand = {
  name: 'QUERY_ESWITCH_MODE',
  opcode: mnicfw.MNIC_CMD_QUERY_ESWITCH_MODE,
  inBytes: mnicfw.MnicCmdInHdr.sizeBytes,
  outBytes: fixed(mnicfw.MnicQueryEswitchModeOut.sizeBytes),
  permission: 'manager',
  run: (env) => fwOk(encodeStruct(mnicfw.MnicQueryEswitchModeOut, { ...head, mode: env.eswitchMode })),
};

const allocSf: FwCommand = {
  name: 'ALLOC_SF',
  opcode: mnicfw.MNIC_CMD_ALLOC_SF,
  inBytes: mnicfw.MnicAllocSfIn.sizeBytes,
  outBytes: fixed(mnicfw.MnicFnIdsOut.sizeBytes),
  permission: 'manager',
  run(env, _issuer, input) {
    const { sfnum } = decodeStruct(mnicfw.MnicAllocSfIn, input);
    if (env.table.sfnumInUse(sfnum)) return fwFail(mnicfw.MNIC_STATUS_BAD_PARAM, S.SFNUM_IN_USE);
    const fn = env.table.allocSf(sfnum);
    if (fn === undefined) return fwFail(mnicfw.MNIC_STATUS_NO_RESOURCES, S.SF_TABLE_FULL);
    return fwOk(encodeStruct(mnicfw.MnicFnIdsOut, { ...head, fnId: fn.fnId, vhcaId: fn.vhcaId }));
  },
};

const deallocSf: FwCommand = {
  name: 'DEALLOC_SF',
  opcode: mnicfw.MNIC_CMD_DEALLOC_SF,
  inBytes: mnicfw.MnicFnIn.sizeBytes,
  outBytes: fixed(mnicfw.MnicEmptyOut.sizeBytes),
  permission: 'manager',
  run(env, _issuer, input) {
    const fn = targetOf(env, input);
    if (isResult(fn)) return fn;
    if (fn.kind !== 'sf') return fwFail(mnicfw.MNIC_STATUS_BAD_PARAM, S.WRONG_KIND);
    if (fn.vhcaState !== mnicfw.MNIC_VHCA_STATE_ALLOCATED)
      return fwFail(mnicfw.MNIC_STATUS_RESOURCE_BUSY, S.FN_BUSY);
    env.table.freeSf(fn);
    return emptyOk();
  },
};

/** DESTROY's count: 1..max_siov_fns. */
const siovCount = (env: FwEnv, input: Uint8Array): number | undefined => {
  const count = readLe(input, 8, 4);
  return count >= 1 && count <= env.table.limits.maxSiovFns ? count : undefined;
};

const createSiovFns: FwCommand = {
  name: 'CREATE_SIOV_FNS',
  opcode: mnicfw.MNIC_CMD_CREATE_SIOV_FNS,
  inBytes: mnicfw.MnicCreateSiovFnsIn.sizeBytes,
  // A count that cannot fit fails with the header alone, so it needs no room for entries.
  outBytes: (input, env) => {
    const count = readLe(input, 8, 4);
    return count <= env.table.limits.maxSiovFns
      ? mnicfw.MnicCreateSiovFnsOut.sizeBytes + count * mnicfw.MnicSiovFnEntry.sizeBytes
      : mnicfw.MnicEmptyOut.sizeBytes;
  },
  permission: 'manager',
  run(env, _issuer, input) {
    const count = readLe(input, 8, 4);
    if (count === 0) return fwFail(mnicfw.MNIC_STATUS_BAD_PARAM, S.BAD_COUNT);
    const fns = env.table.allocSiov(count);
    if (fns === undefined) return fwFail(mnicfw.MNIC_STATUS_NO_RESOURCES, S.SIOV_TABLE_FULL);
    env.charge(count * env.costs().firmwarePerFunctionNs);
    const out = new Uint8Array(
      mnicfw.MnicCreateSiovFnsOut.sizeBytes + count * mnicfw.MnicSiovFnEntry.sizeBytes,
    );
    out.set(encodeStruct(mnicfw.MnicCreateSiovFnsOut, { ...head, count, entries: new Uint8Array(0) }));
    // Entries by hand (MnicSiovFnEntry: fnId, vhcaId, guestRid, hypervisorRid): this loop runs 10^4 times.
    const v = new DataView(out.buffer);
    fns.forEach((fn, i) => {
      if (fn.id.kind !== 'siov') return;
      const at = mnicfw.MnicCreateSiovFnsOut.sizeBytes + i * mnicfw.MnicSiovFnEntry.sizeBytes;
      v.setUint32(at, fn.fnId, true);
      v.setUint32(at + 4, fn.vhcaId, true);
      v.setUint16(at + 8, fn.id.guestRid, true);
      v.setUint16(at + 10, fn.id.hypervisorRid, true);
    });
    return fwOk(out);
  },
};

const destroySiovFns: FwCommand = {
  name: 'DESTROY_SIOV_FNS',
  opcode: mnicfw.MNIC_CMD_DESTROY_SIOV_FNS,
  inBytes: mnicfw.MnicDestroySiovFnsIn.sizeBytes,
  outBytes: fixed(mnicfw.MnicEmptyOut.sizeBytes),
  permission: 'manager',
  run(env, _issuer, input) {
    const count = siovCount(env, input);
    if (count === undefined) return fwFail(mnicfw.MNIC_STATUS_BAD_PARAM, S.BAD_COUNT);
    const base = mnicfw.MnicDestroySiovFnsIn.sizeBytes;
    if (input.length < base + 4 * count) return fwFail(mnicfw.MNIC_STATUS_BAD_INPUT_LEN, S.SHORT_INPUT);
    const fns = new Set<MnicFunction>();
    for (let i = 0; i < count; i++) {
      const fn = env.table.get(readLe(input, base + 4 * i, 4));
      if (fn === undefined) return fwFail(mnicfw.MNIC_STATUS_BAD_RESOURCE, S.NO_SUCH_FN);
      if (fn.kind !== 'siov') return fwFail(mnicfw.MNIC_STATUS_BAD_PARAM, S.WRONG_KIND);
      if (fns.has(fn)) return fwFail(mnicfw.MNIC_STATUS_BAD_PARAM, S.DUPLICATE_FN);
      if (fn.vhcaState !== mnicfw.MNIC_VHCA_STATE_ALLOCATED)
        return fwFail(mnicfw.MNIC_STATUS_RESOURCE_BUSY, S.FN_BUSY);
      fns.add(fn);
    }
    for (const fn of fns) env.table.freeSiov(fn);
    env.charge(count * env.costs().firmwarePerFunctionNs);
    return emptyOk();
  },
};

const queryVhcaState: FwCommand = {
  name: 'QUERY_VHCA_STATE',
  opcode: mnicfw.MNIC_CMD_QUERY_VHCA_STATE,
  inBytes: mnicfw.MnicFnIn.sizeBytes,
  outBytes: fixed(mnicfw.MnicQueryVhcaStateOut.sizeBytes),
  permission: 'self-or-manager',
  run(env, _issuer, input) {
    const fn = targetOf(env, input);
    if (isResult(fn)) return fn;
    return fwOk(
      encodeStruct(mnicfw.MnicQueryVhcaStateOut, {
        ...head,
        state: fn.vhcaState,
        kind: FN_KIND_NUMBER[fn.kind],
        vhcaId: fn.vhcaId,
      }),
    );
  },
};

const setFnHwAddr: FwCommand = {
  name: 'SET_FN_HW_ADDR',
  opcode: mnicfw.MNIC_CMD_SET_FN_HW_ADDR,
  inBytes: mnicfw.MnicSetFnHwAddrIn.sizeBytes,
  outBytes: fixed(mnicfw.MnicEmptyOut.sizeBytes),
  permission: 'manager',
  run(env, _issuer, input) {
    const fn = targetOf(env, input);
    if (isResult(fn)) return fn;
    const { mac } = decodeStruct(mnicfw.MnicSetFnHwAddrIn, input);
    if (!validUnicastMac(mac)) return fwFail(mnicfw.MNIC_STATUS_BAD_PARAM, S.BAD_MAC);
    fn.mac.set(mac);
    return emptyOk();
  },
};

const queryFnHwAddr: FwCommand = {
  name: 'QUERY_FN_HW_ADDR',
  opcode: mnicfw.MNIC_CMD_QUERY_FN_HW_ADDR,
  inBytes: mnicfw.MnicFnIn.sizeBytes,
  outBytes: fixed(mnicfw.MnicQueryFnHwAddrOut.sizeBytes),
  permission: 'self-or-manager',
  run(env, _issuer, input) {
    const fn = targetOf(env, input);
    if (isResult(fn)) return fn;
    return fwOk(encodeStruct(mnicfw.MnicQueryFnHwAddrOut, { ...head, mac: fn.mac.slice() }));
  },
};

const setFnCaps: FwCommand = {
  name: 'SET_FN_CAPS',
  opcode: mnicfw.MNIC_CMD_SET_FN_CAPS,
  inBytes: mnicfw.MnicSetFnCapsIn.sizeBytes,
  outBytes: fixed(mnicfw.MnicEmptyOut.sizeBytes),
  permission: 'manager',
  run(env, _issuer, input) {
    const fn = managedTarget(env, input);
    if (isResult(fn)) return fn;
    const { capsMask, caps } = decodeStruct(mnicfw.MnicSetFnCapsIn, input);
    if (((capsMask | caps) & ~mnicfw.MNIC_FN_CAPS_KNOWN) !== 0)
      return fwFail(mnicfw.MNIC_STATUS_BAD_PARAM, S.BAD_CAPS);
    if (!env.migration && (capsMask & caps & mnicfw.MNIC_FN_CAP_MIGRATABLE) !== 0) {
      return fwFail(mnicfw.MNIC_STATUS_BAD_PARAM, S.BAD_CAPS);
    }
    if (fn.vhcaState === mnicfw.MNIC_VHCA_STATE_IN_USE)
      return fwFail(mnicfw.MNIC_STATUS_RESOURCE_BUSY, S.FN_BUSY);
    fn.caps = (fn.caps & ~capsMask) | (caps & capsMask);
    return emptyOk();
  },
};

const queryFnCaps: FwCommand = {
  name: 'QUERY_FN_CAPS',
  opcode: mnicfw.MNIC_CMD_QUERY_FN_CAPS,
  inBytes: mnicfw.MnicFnIn.sizeBytes,
  outBytes: fixed(mnicfw.MnicQueryFnCapsOut.sizeBytes),
  permission: 'self-or-manager',
  run(env, _issuer, input) {
    const fn = targetOf(env, input);
    if (isResult(fn)) return fn;
    return fwOk(encodeStruct(mnicfw.MnicQueryFnCapsOut, { ...head, caps: fn.caps }));
  },
};

const queryCounters: FwCommand = {
  name: 'QUERY_COUNTERS',
  opcode: mnicfw.MNIC_CMD_QUERY_COUNTERS,
  inBytes: mnicfw.MnicFnIn.sizeBytes,
  outBytes: fixed(mnicfw.MnicQueryCountersOut.sizeBytes),
  permission: 'self-or-manager',
  run(env, _issuer, input) {
    const fn = targetOf(env, input);
    if (isResult(fn)) return fn;
    return fwOk(encodeStruct(mnicfw.MnicQueryCountersOut, { ...head, ...fn.counters }));
  },
};

export const LIFECYCLE_COMMANDS: readonly FwCommand[] = [
  queryHcaCap,
  setEswitchMode,
  queryEswitchMode,
  allocSf,
  deallocSf,
  createSiovFns,
  destroySiovFns,
  hcaCommand('ENABLE_HCA', mnicfw.MNIC_CMD_ENABLE_HCA, 'enable'),
  hcaCommand('DISABLE_HCA', mnicfw.MNIC_CMD_DISABLE_HCA, 'disable'),
  selfCommand('INIT_HCA', mnicfw.MNIC_CMD_INIT_HCA, 'init'),
  selfCommand('TEARDOWN_HCA', mnicfw.MNIC_CMD_TEARDOWN_HCA, 'teardown'),
  queryVhcaState,
  setFnHwAddr,
  queryFnHwAddr,
  setFnCaps,
  queryFnCaps,
  queryCounters,
];
