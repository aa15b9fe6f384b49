/**
 * The calling process's memory, as the kernel reaches it through user pointers: copy_from_user,
 * copy_to_user, and pin_user_pages for IOMMU_IOAS_MAP. The uAPI structs carry user pointers (the
 * pages to map, the dirty bitmap, DMA-logging range arrays); this port is where they land.
 *
 * SPEC-DEVIATION: the model has no process page tables. `flatUserMemory` makes a user virtual address
 * equal to the host physical address of the same byte (as if the process had every page of host RAM
 * mapped at VA = PA and pinned), so a pinned range is always physically contiguous. A richer process
 * model can implement the interface with real page tables; `pin` may then refuse a range that is not
 * contiguous (EFAULT), which IOMMUFD would instead map piecewise.
 */
import { errnoError } from '../../base/index.js';
import type { Hpa, SparseMemory } from '../../hw/index.js';

export interface UserMemory {
  /** copy_from_user: `lengthBytes` at `userVa`. EFAULT when any byte is not mapped. */
  read(userVa: bigint, lengthBytes: number): Uint8Array;
  /** copy_to_user. EFAULT when any byte is not mapped (nothing is written then). */
  write(userVa: bigint, bytes: Uint8Array): void;
  /** pin_user_pages of `[userVa, userVa + lengthBytes)`: the host physical start of the range. EFAULT. */
  pin(userVa: bigint, lengthBytes: bigint): Hpa;
}

/** User VA = HPA over all of `memory` (see the SPEC-DEVIATION above). */
export function flatUserMemory(memory: SparseMemory<Hpa>): UserMemory {
  const check = (userVa: bigint, lengthBytes: bigint): void => {
    if (userVa < 0n || lengthBytes < 0n || userVa + lengthBytes > memory.sizeBytes)
      throw errnoError('EFAULT', `user range 0x${userVa.toString(16)}+0x${lengthBytes.toString(16)}`);
  };
  return {
    read(userVa, lengthBytes) {
      check(userVa, BigInt(lengthBytes));
      return memory.read(userVa as Hpa, lengthBytes);
    },
    write(userVa, bytes) {
      check(userVa, BigInt(bytes.length));
      memory.write(userVa as Hpa, bytes, 'cpu');
    },
    pin(userVa, lengthBytes) {
      check(userVa, lengthBytes);
      return userVa as Hpa;
    },
  };
}
