/**
 * `vfio`: what QEMU or the kernel's VFIO selftests do by hand, as a host-shell tool. Every request goes
 * through the device file's uAPI face (`VfioDeviceFile.ioctl` with the byte-exact structs for features,
 * the typed info/region/irq/reset/read/write calls for the rest), so the tool is a user process of the
 * modeled kernel, never a reader of its internals.
 *
 *   vfio list
 *   vfio info DEVICE
 *   vfio read DEVICE REGION OFFSET SIZE
 *   vfio write DEVICE REGION OFFSET SIZE VALUE
 *   vfio reset DEVICE
 *   vfio mig DEVICE state [TARGET]
 *   vfio mig DEVICE save FILE | load FILE | precopy-info | data-size
 *   vfio dirty DEVICE start [--page-size N] IOVA:LENGTH... | stop | report IOVA LENGTH [--page-size N]
 *
 * `--json` anywhere prints exactly one line of JSON. Errors print `vfio: <what>: <strerror>` (status 1)
 * or, with --json, `{"errno":"<NAME>",...}`; bad arguments print the usage (status 2; with --json
 * `{"errno":"EINVAL","error":...}`). DEVICE is a BDF (`0000:01:00.1` or `01:00.1`) or a cdev name
 * (`vfio3`). REGION is an index or BAR0-BAR5, ROM, CONFIG, VGA.
 *
 * Decisions:
 * - One process per shell: the tool opens a device (through its group, GROUP_GET_DEVICE_FD, which runs
 *   the open's FLR) on first use and keeps the file, its fd table and the migration data fd for as long
 *   as the shell lives, so the migration state and the data session persist between commands, as they
 *   would in a VMM that keeps its fds.
 * - `mig DEVICE state TARGET` walks the path one arc per MIG_DEVICE_STATE SET, choosing each next step
 *   with the uAPI's table (facts/kernel.md 1.4), so every arc the device runs is observed and printed;
 *   single arcs are valid requests, and the saving-group states are never interior, so a data fd can
 *   only come back from the last SET. When the table refuses the request (EINVAL: unsupported target,
 *   STOP_COPY -> PRE_COPY, ERROR), the whole request is sent to the kernel anyway and its errno is what
 *   is reported. After a failed SET the tool GETs the state the device is really in.
 * - Files for `save`/`load`: the shell's file tree is sysfs, and the shell is given only a text
 *   `readFile`, so the tool keeps an in-shell scratch store of binary files (`files` on the command
 *   object; `vfio files` lists it). It lives as long as the shell, which is enough to save a device's
 *   state and load it into another VF of the same host.
 * - DMA logging payloads carry user pointers (the range array, the bitmap): the tool's process memory
 *   is `userMemory` on the command object, a flat buffer a driver's logging handlers read and write
 *   (a driver registered for this shell is given it, as the kernel would see this process's memory).
 */
// The implementation lives in ./vfio/, split by concern; this module keeps the public names.
export { ScratchUserMemory } from './vfio/user-memory.js';
export { type VfioTool, vfioCommand } from './vfio/vfio-tool.js';
