/** The host shell's command table. */
import type { Host } from '../host/host.js';
import type { ShellCommand } from '../shell/command.js';
import { lspciCommand } from './lspci.js';

export function hostCommands(host: Host, readFile: (path: string) => string): ShellCommand[] {
  return [lspciCommand(host, readFile)];
}
