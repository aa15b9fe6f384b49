/**
 * The byte-exact ioctl entry of an IOMMUFD context (iommufd_fops_ioctl, drivers/iommu/iommufd/main.c;
 * facts/kernel.md 2.2): `ioctl(cmd, arg)` takes the user's struct as bytes and returns the struct as the
 * kernel leaves it after copy-back, or a negative errno.
 *
 * Common rules, checked before the command's own (the "General ioctl format" of iommufd.h):
 * - a number outside 0x3B80..0x3B8C, or one the model does not implement, is ENOTTY;
 * - `arg` shorter than 4 bytes, or than the `size` it declares, is EFAULT (the copy from user fails);
 * - `size` below the command's minimum is EINVAL;
 * - bytes the kernel does not know (past the struct, up to `size`) must be zero, else E2BIG;
 * - non-zero `__reserved` or unknown flag bits are EOPNOTSUPP.
 * On success the known part of the struct, with its output fields, is copied back over `arg` (never
 * more than `size` bytes); on failure `arg` is not written. User pointers inside the structs (user_va,
 * data, data_uptr) go through the context's UserMemory.
 *
 * Not implemented (ENOTTY): IOAS_ALLOW_IOVAS, IOAS_COPY, IOAS_IOVA_RANGES, OPTION, VFIO_IOAS,
 * HWPT_INVALIDATE.
 */
import {
  decodeStruct,
  encodeStruct,
  errnoError,
  isLabError,
  nonZeroReserved,
  type StructDesc,
} from '../../base/index.js';
import { type IommuProt, iova as toIova } from '../../hw/index.js';
import { Errno, iommufd as uapi } from '../../spec/index.js';
import type { Iommufd } from './iommufd.js';
import type { UserMemory } from './user-memory.js';

/** An ioctl's result: the argument bytes after copy-back, or a negative errno. */
export type IoctlResult = Uint8Array | number;

interface Command<T> {
  readonly desc: StructDesc<T>;
  readonly minSize: number;
  /** Runs the command; returns the struct to copy back. */
  readonly run: (ctx: Iommufd, user: UserMemory, cmd: T, raw: Uint8Array) => T;
}

const MAP_FLAGS =
  uapi.IOMMU_IOAS_MAP_FIXED_IOVA | uapi.IOMMU_IOAS_MAP_WRITEABLE | uapi.IOMMU_IOAS_MAP_READABLE;
const HWPT_ALLOC_FLAGS = uapi.IOMMU_HWPT_ALLOC_NEST_PARENT | uapi.IOMMU_HWPT_ALLOC_DIRTY_TRACKING;

function unsupported(desc: StructDesc<unknown>, raw: Uint8Array, flags: number, known: number): void {
  if ((flags & ~known) !== 0)
    throw errnoError('EOPNOTSUPP', `${desc.name}: unknown flags 0x${flags.toString(16)}`);
  const reserved = nonZeroReserved(desc, raw);
  if (reserved.length > 0) throw errnoError('EOPNOTSUPP', `${desc.name}: ${reserved.join(', ')} not zero`);
}

const command = <T>(c: Command<T>): Command<unknown> => c as Command<unknown>;

const COMMANDS = new Map<number, Command<unknown>>([
  [
    uapi.IOMMU_DESTROY,
    command({
      desc: uapi.IommuDestroy,
      minSize: uapi.IOMMU_DESTROY_MIN_SIZE,
      run: (ctx, _user, cmd) => {
        ctx.destroy(cmd.id);
        return cmd;
      },
    }),
  ],
  [
    uapi.IOMMU_IOAS_ALLOC,
    command({
      desc: uapi.IommuIoasAlloc,
      minSize: uapi.IOMMU_IOAS_ALLOC_MIN_SIZE,
      run: (ctx, _user, cmd) => {
        if (cmd.flags !== 0) throw errnoError('EOPNOTSUPP', 'iommu_ioas_alloc.flags must be 0');
        return { ...cmd, outIoasId: ctx.ioasAlloc() };
      },
    }),
  ],
  [
    uapi.IOMMU_IOAS_MAP,
    command({
      desc: uapi.IommuIoasMap,
      minSize: uapi.IOMMU_IOAS_MAP_MIN_SIZE,
      run: (ctx, user, cmd, raw) => {
        unsupported(uapi.IommuIoasMap, raw, cmd.flags, MAP_FLAGS);
        const prot: IommuProt = {
          read: (cmd.flags & uapi.IOMMU_IOAS_MAP_READABLE) !== 0,
          write: (cmd.flags & uapi.IOMMU_IOAS_MAP_WRITEABLE) !== 0,
        };
        const fixed = (cmd.flags & uapi.IOMMU_IOAS_MAP_FIXED_IOVA) !== 0;
        const at = ctx.ioasMapUser(
          cmd.ioasId,
          cmd.userVa,
          () => user.pin(cmd.userVa, cmd.length),
          cmd.length,
          prot,
          fixed ? toIova(cmd.iova) : undefined,
        );
        return { ...cmd, iova: at };
      },
    }),
  ],
  [
    uapi.IOMMU_IOAS_UNMAP,
    command({
      desc: uapi.IommuIoasUnmap,
      minSize: uapi.IOMMU_IOAS_UNMAP_MIN_SIZE,
      run: (ctx, _user, cmd) => ({ ...cmd, length: ctx.ioasUnmap(cmd.ioasId, cmd.iova, cmd.length) }),
    }),
  ],
  [
    uapi.IOMMU_HWPT_ALLOC,
    command({
      desc: uapi.IommuHwptAlloc,
      minSize: uapi.IOMMU_HWPT_ALLOC_MIN_SIZE,
      run: (ctx, _user, cmd, raw) => {
        unsupported(uapi.IommuHwptAlloc, raw, cmd.flags, HWPT_ALLOC_FLAGS);
        if (cmd.dataType === uapi.IOMMU_HWPT_DATA_NONE && (cmd.dataLen !== 0 || cmd.dataUptr !== 0n))
          throw errnoError('EINVAL', 'data_len/data_uptr without a data_type');
        if (cmd.dataType !== uapi.IOMMU_HWPT_DATA_NONE)
          throw errnoError('EOPNOTSUPP', `HWPT data type ${cmd.dataType} (nesting is not modeled)`);
        const id = ctx.hwptAlloc({
          devId: cmd.devId,
          ptId: cmd.ptId,
          dirtyTracking: (cmd.flags & uapi.IOMMU_HWPT_ALLOC_DIRTY_TRACKING) !== 0,
          nestParent: (cmd.flags & uapi.IOMMU_HWPT_ALLOC_NEST_PARENT) !== 0,
        });
        return { ...cmd, outHwptId: id };
      },
    }),
  ],
  [
    uapi.IOMMU_GET_HW_INFO,
    command({
      desc: uapi.IommuHwInfo,
      minSize: uapi.IOMMU_GET_HW_INFO_MIN_SIZE,
      run: (ctx, user, cmd, raw) => {
        unsupported(uapi.IommuHwInfo, raw, cmd.flags, 0);
        const info = ctx.hwInfo(cmd.devId);
        // No driver-specific data: the user's buffer is zeroed ("trailing bytes will be zeroed").
        if (cmd.dataLen > 0) user.write(cmd.dataUptr, new Uint8Array(cmd.dataLen));
        return {
          ...cmd,
          dataLen: 0,
          outDataType: info.dataType,
          outCapabilities: info.capabilities.dirtyTracking ? BigInt(uapi.IOMMU_HW_CAP_DIRTY_TRACKING) : 0n,
        };
      },
    }),
  ],
  [
    uapi.IOMMU_HWPT_SET_DIRTY_TRACKING,
    command({
      desc: uapi.IommuHwptSetDirtyTracking,
      minSize: uapi.IOMMU_HWPT_SET_DIRTY_TRACKING_MIN_SIZE,
      run: (ctx, _user, cmd, raw) => {
        unsupported(uapi.IommuHwptSetDirtyTracking, raw, cmd.flags, uapi.IOMMU_HWPT_DIRTY_TRACKING_ENABLE);
        ctx.setDirtyTracking(cmd.hwptId, (cmd.flags & uapi.IOMMU_HWPT_DIRTY_TRACKING_ENABLE) !== 0);
        return cmd;
      },
    }),
  ],
  [
    uapi.IOMMU_HWPT_GET_DIRTY_BITMAP,
    command({
      desc: uapi.IommuHwptGetDirtyBitmap,
      minSize: uapi.IOMMU_HWPT_GET_DIRTY_BITMAP_MIN_SIZE,
      run: (ctx, user, cmd, raw) => {
        unsupported(uapi.IommuHwptGetDirtyBitmap, raw, cmd.flags, uapi.IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR);
        const bitmap = ctx.readDirtyBitmap({
          hwptId: cmd.hwptId,
          iova: cmd.iova,
          lengthBytes: cmd.length,
          pageSizeBytes: cmd.pageSize,
          noClear: (cmd.flags & uapi.IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) !== 0,
        });
        bitmap?.orIntoUser(user, cmd.data);
        return cmd;
      },
    }),
  ],
]);

/** The errno a LabError carries, as the negative number ioctl(2) returns; other errors are bugs. */
export function negativeErrno(e: unknown): number {
  if (isLabError(e) && e.errno !== undefined) return -Errno[e.errno];
  if (isLabError(e) && e.code === 'bad-input') return -Errno.EINVAL;
  throw e;
}

/** ioctl(iommufd, cmd, arg). */
export function iommufdIoctl(ctx: Iommufd, user: UserMemory, cmd: number, arg: Uint8Array): IoctlResult {
  const op = COMMANDS.get(cmd);
  if (op === undefined) return -Errno.ENOTTY;
  try {
    if (arg.length < 4) throw errnoError('EFAULT', 'cannot read size');
    const size = new DataView(arg.buffer, arg.byteOffset, 4).getUint32(0, true);
    if (size < op.minSize) throw errnoError('EINVAL', `size ${size} < ${op.minSize}`);
    if (arg.length < size) throw errnoError('EFAULT', `size ${size} beyond the ${arg.length}-byte buffer`);
    const known = op.desc.sizeBytes;
    if (size > known && arg.subarray(known, size).some((b) => b !== 0))
      throw errnoError('E2BIG', `non-zero bytes past the ${known}-byte struct`);
    // copy_struct_from_user: a shorter (older) struct reads as zero-extended.
    const raw = new Uint8Array(known);
    raw.set(arg.subarray(0, Math.min(size, known)));
    const out = op.run(ctx, user, decodeStruct(op.desc, raw), raw);
    const reply = arg.slice();
    const bytes = encodeStruct(op.desc, out);
    // Reserved fields are echoed as the user wrote them (they were checked zero); outputs overwrite.
    reply.set(bytes.subarray(0, Math.min(size, known)));
    return reply;
  } catch (e) {
    return negativeErrno(e);
  }
}
