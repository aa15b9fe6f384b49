/**
 * lspci for vfiolab: pciutils 3.9.0's lspci, line for line, over modeled devices (live, with a sysfs
 * view) or over hex dumps (-F). The only entrance to this folder.
 */
export { type FormatDumpOptions, formatDump, parseLspciDump } from './dump.js';
export type { LspciDevice, LspciIo, LspciResult, LspciSysfs, SysfsResource } from './input.js';
export { PCIUTILS_VERSION, runLspci } from './lspci.js';
